/**
 * The LMS throttles the emulator plays per platform, through HTTP: Canvas's leaky bucket (403, no
 * Retry-After) and D2L's credit bucket (429 + Retry-After), their headers, and LTIAAS not relaying them.
 */
import { describe, expect, it } from "vitest";
import { canvasCostForInFlight } from "@/lib/emulator/throttle";
import { score, useClockedEmulator, type GradedCourse } from "../support/emulator-http";

const emu = useClockedEmulator();
const RATE_HEADERS = ["x-rate-limit-remaining", "x-rate-limit-reset", "x-request-cost", "retry-after"];
const rateHeaders = (h: Headers) => Object.fromEntries(RATE_HEADERS.filter((n) => h.has(n)).map((n) => [n, h.get(n)]));

/** One API call of each kind the sync engine makes, in turn. */
function anyCall(c: GradedCourse, i: number) {
  switch (i % 4) {
    case 0:
      return emu.post(c, score("s1", 5));
    case 1:
      return emu.results(c, "?limit=10");
    case 2:
      return emu.call("GET", "/api/lineitems", c.serviceKey);
    default:
      return emu.call("GET", "/api/memberships", c.serviceKey);
  }
}

describe("Canvas throttle", () => {
  it("charges each request its cost, refuses at the high-water mark with 403 and no Retry-After, and recovers as it drains", async () => {
    const c = emu.course();
    emu.emulator.setThrottle(c.platformId, { mode: "canvas", highWaterMark: 10, maximum: 20, upFrontCost: 5, requestCost: 3, outflowPerSecond: 2 });

    const first = await emu.post(c, score("s1", 5));
    expect(first.status).toBe(204);
    expect(rateHeaders(first.headers)).toEqual({ "x-request-cost": "3.0", "x-rate-limit-remaining": "7.0" });
    const second = await emu.results(c);
    expect(second.status).toBe(200);
    expect(rateHeaders(second.headers)).toEqual({ "x-request-cost": "3.0", "x-rate-limit-remaining": "4.0" });

    // Level 6 + a reservation of 5 reaches the mark of 10.
    const refused = await emu.post(c, score("s2", 5));
    expect(refused.status).toBe(403);
    expect(refused.text).toBe("403 Forbidden (Rate Limit Exceeded)\n");
    expect(rateHeaders(refused.headers)).toEqual({ "x-rate-limit-remaining": "0.0" });
    expect(emu.emulator.scores(c.lineItemId).map((p) => p.userId)).toEqual(["s1"]);
    expect(emu.emulator.throttle(c.platformId)).toMatchObject({ level: 6, remaining: 4, refused: 1 });

    // Half a second drains 1 unit: still full. A second more drains 2: room again.
    emu.clock += 500;
    expect((await emu.call("GET", "/api/memberships", c.serviceKey)).status).toBe(403);
    emu.clock += 1000;
    const again = await emu.call("GET", "/api/lineitems", c.serviceKey);
    expect(again.status).toBe(200);
    expect(rateHeaders(again.headers)).toEqual({ "x-request-cost": "3.0", "x-rate-limit-remaining": "4.0" });
    emu.clock += 60_000;
    expect(emu.emulator.throttle(c.platformId)).toMatchObject({ level: 0, remaining: 10 });

    expect(emu.emulator.stats().throttledByPlatform).toEqual({ p1: 2 });
    expect(emu.emulator.log.map((r) => r.status)).toEqual([204, 200, 403, 403, 200]);
  });

  it("can start partly full (a bucket the platform's other traffic keeps busy): it refuses sooner, and drains from there", async () => {
    const c = emu.course();
    emu.emulator.setThrottle(c.platformId, { mode: "canvas", highWaterMark: 10, maximum: 20, upFrontCost: 5, requestCost: 3, outflowPerSecond: 2, startLevel: 6 });
    expect(emu.emulator.throttle(c.platformId)).toMatchObject({ level: 6, remaining: 4, refused: 0 });
    expect((await emu.post(c, score("s1", 5))).status).toBe(403);
    emu.clock += 1000;
    expect(emu.emulator.throttle(c.platformId)).toMatchObject({ level: 4 });
    expect((await emu.post(c, score("s1", 5))).status).toBe(204);
    expect(() => emu.emulator.setThrottle(c.platformId, { mode: "canvas", startLevel: -1 })).toThrow(/startLevel/);
  });

  it("throttles every kind of call of that platform and no other platform", async () => {
    const c = emu.course({ platformId: "p1" });
    const d = emu.course({ platformId: "p2" });
    emu.emulator.setThrottle("p1", { mode: "canvas", highWaterMark: 10, upFrontCost: 1, requestCost: 2, outflowPerSecond: 0 });
    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await anyCall(c, i)).status);
    // Level 2 per call: the sixth finds 10 + 1 ≥ 10.
    expect(statuses).toEqual([204, 200, 200, 200, 204, 403, 403, 403]);
    for (let i = 0; i < 4; i++) {
      const a = await anyCall(d, i);
      expect(a.status).toBeLessThan(300);
      expect(rateHeaders(a.headers)).toEqual({});
    }
    expect(emu.emulator.stats().throttledByPlatform).toEqual({ p1: 3 });
  });

  it("holds each request's reservation while it is in flight: about 12 at once fill the default bucket", async () => {
    const c = emu.course();
    emu.emulator.setThrottle(c.platformId, { mode: "canvas" });
    emu.emulator.faults.latencyMs = 400;
    const answers = await Promise.all(Array.from({ length: 14 }, () => emu.call("GET", "/api/lineitems", c.serviceKey)));
    const statuses = answers.map((a) => a.status).sort();
    // 11 × 50 = 550 in reservations; the 12th reaches 600.
    expect(statuses.filter((s) => s === 200)).toHaveLength(11);
    expect(statuses.filter((s) => s === 403)).toHaveLength(3);
    expect(emu.emulator.stats().inFlightMaxByPlatform.p1).toBe(14);
    // Once they ended, each costs its real cost (1) and the reservations are given back.
    expect(emu.emulator.throttle(c.platformId)).toMatchObject({ level: 11, remaining: 589 });
  });

  it("gives the cost at which n requests in flight at a latency are just sustainable", () => {
    expect(canvasCostForInFlight(4, 50)).toBeCloseTo(0.125, 10);
    expect(canvasCostForInFlight(4, 250, 20)).toBeCloseTo(1.25, 10);
    expect(() => canvasCostForInFlight(0, 50)).toThrow();
  });
});

describe("D2L throttle", () => {
  it("spends credits per call, refuses an empty bucket with 429 and Retry-After, and refills when the window ends", async () => {
    const c = emu.course();
    emu.emulator.setThrottle(c.platformId, { mode: "d2l", credits: 30, costPerCall: 10, windowSeconds: 60 });
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const a = await anyCall(c, i);
      expect(a.status).toBeLessThan(300);
      seen.push(rateHeaders(a.headers));
      emu.clock += 1000;
    }
    expect(seen).toEqual([
      { "x-rate-limit-remaining": "20", "x-rate-limit-reset": "60", "x-request-cost": "10" },
      { "x-rate-limit-remaining": "10", "x-rate-limit-reset": "59", "x-request-cost": "10" },
      { "x-rate-limit-remaining": "0", "x-rate-limit-reset": "58", "x-request-cost": "10" },
    ]);
    const refused = await emu.post(c, score("s2", 5));
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ status: 429, error: "Too Many Requests" });
    expect(rateHeaders(refused.headers)).toEqual({ "retry-after": "57", "x-rate-limit-remaining": "0", "x-rate-limit-reset": "57" });
    expect(emu.emulator.scores(c.lineItemId).map((p) => p.userId)).toEqual(["s1"]);

    emu.clock += 56_500;
    expect(rateHeaders((await emu.results(c)).headers)["retry-after"]).toBe("1");
    emu.clock += 500;
    const refilled = await emu.post(c, score("s2", 5));
    expect(refilled.status).toBe(204);
    expect(rateHeaders(refilled.headers)).toEqual({ "x-rate-limit-remaining": "20", "x-rate-limit-reset": "60", "x-request-cost": "10" });
    expect(emu.emulator.stats().throttledByPlatform).toEqual({ p1: 2 });
    expect(emu.emulator.throttle(c.platformId)).toMatchObject({ level: 10, remaining: 20, refused: 2 });
  });
});

describe("header relaying off (LTIAAS may not relay them)", () => {
  it("answers the same statuses with none of the rate headers", async () => {
    const c = emu.course({ platformId: "canvas-quiet" });
    const d = emu.course({ platformId: "d2l-quiet" });
    emu.emulator.setThrottle(c.platformId, { mode: "canvas", highWaterMark: 4, upFrontCost: 1, requestCost: 2, outflowPerSecond: 0, relayHeaders: false });
    emu.emulator.setThrottle(d.platformId, { mode: "d2l", credits: 1, costPerCall: 1, relayHeaders: false });
    const canvas = [await emu.post(c, score("s1", 1)), await emu.post(c, score("s1", 2)), await emu.post(c, score("s1", 3))];
    expect(canvas.map((a) => a.status)).toEqual([204, 204, 403]);
    expect(canvas[2].text).toContain("Rate Limit Exceeded");
    const d2l = [await emu.post(d, score("s1", 1)), await emu.post(d, score("s1", 2))];
    expect(d2l.map((a) => a.status)).toEqual([204, 429]);
    for (const a of [...canvas, ...d2l]) expect(rateHeaders(a.headers)).toEqual({});
    expect(emu.emulator.throttle(c.platformId).relayHeaders).toBe(false);
  });

  it("refuses parameters that make no sense, and mode none removes the throttle", () => {
    expect(() => emu.emulator.setThrottle("p1", { mode: "canvas", highWaterMark: -1 })).toThrow(/highWaterMark/);
    expect(() => emu.emulator.setThrottle("p1", { mode: "d2l", windowSeconds: 0 })).toThrow(/windowSeconds/);
    emu.emulator.setThrottle("p1", { mode: "d2l", credits: 5 });
    expect(emu.emulator.throttle("p1").settings).toEqual({ mode: "d2l", credits: 5, windowSeconds: 60, costPerCall: 10 });
    emu.emulator.setThrottle("p1", { mode: "none" });
    expect(emu.emulator.throttle("p1").settings).toEqual({ mode: "none" });
  });
});
