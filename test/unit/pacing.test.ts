/** Pacing a platform by what it answers (pure), and the gate that holds requests to the window. */
import { describe, expect, it } from "vitest";
import { PlatformGate } from "@/lib/ltiaas/gate";
import { newPace, paceAnswer, PACING, setCeiling } from "@/lib/ltiaas/pacing";

const ok = { status: 204, throttled: false };
const throttled = { status: 429, throttled: true };

describe("pacing by statuses", () => {
  it("starts at the ceiling, halves on a throttle (once for answers refused together), never below 1", () => {
    const p = newPace(8);
    expect(p.window).toBe(8);
    paceAnswer(p, throttled, 10_000);
    expect(p.window).toBe(4);
    // The other requests of that burst come back refused too: one cut for them all.
    paceAnswer(p, throttled, 10_100);
    expect(p.window).toBe(4);
    paceAnswer(p, throttled, 11_200);
    paceAnswer(p, throttled, 12_400);
    paceAnswer(p, throttled, 13_600);
    expect(p.window).toBe(1);
  });

  it("holds after a cut, then widens one step per window of calm answers, up to the ceiling", () => {
    const p = newPace(4);
    paceAnswer(p, throttled, 0);
    expect(p.window).toBe(2);
    for (let i = 0; i < 10; i++) paceAnswer(p, ok, 1_000 + i);
    expect(p.window).toBe(2);
    const later = PACING.quietAfterCutMs + 1_000;
    paceAnswer(p, ok, later);
    paceAnswer(p, ok, later + 1);
    expect(p.window).toBe(3);
    for (let i = 0; i < 3; i++) paceAnswer(p, ok, later + 10 + i);
    expect(p.window).toBe(4);
    for (let i = 0; i < 20; i++) paceAnswer(p, ok, later + 100 + i);
    expect(p.window).toBe(4);
  });

  it("a lower ceiling brings the window down at once; errors that are not throttles neither widen nor narrow", () => {
    const p = newPace(8);
    setCeiling(p, 3);
    expect(p.window).toBe(3);
    for (let i = 0; i < 10; i++) paceAnswer(p, { status: 503, throttled: false }, i);
    expect(p.window).toBe(3);
    expect(p.calm).toBe(0);
  });
});

describe("pacing by rate headers", () => {
  it("a credit bucket (D2L: remaining, reset, cost) holds the platform until the reset before it runs dry", () => {
    const p = newPace(4);
    expect(paceAnswer(p, { ...ok, rateLimit: { remaining: 200, resetSeconds: 30, cost: 10 } }, 0)).toEqual({});
    expect(paceAnswer(p, { ...ok, rateLimit: { remaining: 30, resetSeconds: 12, cost: 10 } }, 1)).toEqual({ holdMs: 12_000 });
  });

  it("a leaky bucket (Canvas: remaining only) stops widening while it fills, and narrows while it keeps filling past half", () => {
    const p = newPace(8, 4);
    const answer = (remaining: number, now: number) => paceAnswer(p, { ...ok, rateLimit: { remaining } }, now);
    answer(600, 0);
    answer(560, 1_000); // filling: no wider
    for (let i = 0; i < 10; i++) answer(560, 1_001 + i);
    expect(p.window).toBe(4);
    answer(250, 2_100); // still filling, under half: one narrower
    expect(p.window).toBe(3);
    answer(250, 3_200); // steady (drains as fast as it fills) but over a quarter full: no wider
    for (let i = 0; i < 10; i++) answer(250, 3_201 + i);
    expect(p.window).toBe(3);
    answer(590, 4_300); // draining, almost empty again…
    for (let i = 0; i < 10; i++) answer(595, 5_400 + i);
    expect(p.window).toBe(3); // …but the narrowing's quiet time is not over
    for (let i = 0; i < 10; i++) answer(598, 2_100 + PACING.quietAfterCutMs + 100 + i);
    expect(p.window).toBeGreaterThan(3);
  });
});

describe("the gate holds requests to the window", () => {
  it("lets in no more than the window, and more once it widens", async () => {
    const gate = new PlatformGate(4);
    gate.configure("p", { ceiling: 4, window: 1, adopt: true });
    const first = await gate.acquire("p");
    let second: (() => void) | undefined;
    const waiting = gate.acquire("p").then((r) => (second = r));
    await new Promise((r) => setTimeout(r, 20));
    expect(second).toBeUndefined();
    gate.configure("p", { ceiling: 4, window: 2, adopt: true });
    await waiting;
    expect(second).toBeDefined();
    first();
    second!();
    expect(gate.maxInFlight("p")).toBe(2);
    // Throttled answers are counted for the record, and taken once.
    gate.observe("p", throttled);
    expect(gate.takeThrottled("p")).toBe(1);
    expect(gate.takeThrottled("p")).toBe(0);
    expect(gate.window("p")).toBe(1);
  });

  it("a fixed gate (pacing off, for the benchmark) keeps its window at the ceiling whatever the platform answers", () => {
    const gate = new PlatformGate(8, { fixed: true });
    gate.configure("p", { ceiling: null, window: 2, adopt: true });
    expect(gate.window("p")).toBe(8);
    gate.observe("p", throttled, 10_000);
    gate.observe("p", { status: 204, throttled: false, rateLimit: { remaining: 0 } }, 12_000);
    gate.observe("p", { status: 204, throttled: false, rateLimit: { remaining: 1, resetSeconds: 30 } }, 13_000);
    expect(gate.window("p")).toBe(8);
    expect(gate.heldUntil("p")).toBe(0);
    expect(gate.takeThrottled("p")).toBe(1);
  });
});
