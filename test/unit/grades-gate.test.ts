import { describe, expect, it } from "vitest";
import { PlatformGate, throttlesPlatform } from "@/lib/ltiaas/gate";
import { LtiaasError, type LtiaasErrorInit } from "@/lib/ltiaas/errors";

const tick = () => new Promise((r) => setImmediate(r));

describe("per-platform gate", () => {
  it("lets at most `limit` through per platform; platforms do not wait on each other", async () => {
    const gate = new PlatformGate(2);
    const a1 = await gate.acquire("a");
    const a2 = await gate.acquire("a");
    let third = false;
    const a3 = gate.acquire("a").then((r) => ((third = true), r));
    const b1 = await gate.acquire("b");
    await tick();
    expect(third).toBe(false);
    a1();
    (await a3)();
    expect(third).toBe(true);
    a2();
    b1();
    expect(gate.maxInFlight("a")).toBe(2);
    expect(gate.maxInFlight("b")).toBe(1);
  });

  it("a hold stops the whole platform until it passes", async () => {
    const gate = new PlatformGate(2);
    gate.hold("a", Date.now() + 60_000);
    let got = false;
    void gate.acquire("a").then(() => (got = true));
    const b = await gate.acquire("b");
    await tick();
    expect(got).toBe(false);
    expect(gate.heldUntil("a")).toBeGreaterThan(Date.now());
    b();
    // A shorter hold never shortens a longer one.
    gate.hold("a", Date.now() + 1);
    expect(gate.heldUntil("a") - Date.now()).toBeGreaterThan(50_000);
  });

  it("says whether the hold in force is only this process's finding (LTIAAS unreachable) or the platform's request", () => {
    const gate = new PlatformGate(2);
    expect(gate.holdIsLocal("a")).toBe(false);
    gate.hold("a", Date.now() + 60_000, { local: true });
    expect(gate.holdIsLocal("a")).toBe(true);
    // A Retry-After reaching further is the platform's: it decides.
    gate.hold("a", Date.now() + 120_000);
    expect(gate.holdIsLocal("a")).toBe(false);
    gate.hold("a", Date.now() + 90_000, { local: true });
    expect(gate.holdIsLocal("a")).toBe(false);
  });

  it("a release is idempotent", async () => {
    const gate = new PlatformGate(1);
    const r = await gate.acquire("a");
    r();
    r();
    const r2 = await gate.acquire("a");
    let second = false;
    void gate.acquire("a").then(() => (second = true));
    await tick();
    expect(second).toBe(false);
    r2();
  });

  it("a caller already queued for a slot gives up at once when a hold longer than it may wait is set, and lets the next one decide", async () => {
    const gate = new PlatformGate(1);
    const busy = await gate.acquire("a");
    const first = gate.tryAcquire("a", 1_000);
    const second = gate.tryAcquire("a", 1_000);
    await tick();
    // A 429 with a long Retry-After comes back while both wait for the slot.
    gate.hold("a", Date.now() + 3_600_000);
    busy();
    expect(await first).toBeUndefined();
    expect(await second).toBeUndefined();
  });

  it("a short hold is waited out by tryAcquire", async () => {
    const gate = new PlatformGate(1);
    gate.hold("a", Date.now() + 30);
    const release = await gate.tryAcquire("a", 1_000);
    expect(release).toBeTypeOf("function");
    expect(gate.heldUntil("a")).toBeLessThanOrEqual(Date.now());
    release!();
  });
});

describe("which answers hold the whole platform", () => {
  const err = (init: Omit<LtiaasErrorInit, "operation">) => new LtiaasError({ operation: "postScore", ...init });

  it("a 429, a throttling 403 and a retryable answer with Retry-After do", () => {
    expect(throttlesPlatform(err({ kind: "retry_later", status: 429 }))).toBe(true);
    expect(throttlesPlatform(err({ kind: "retry_later", status: 403 }))).toBe(true);
    expect(throttlesPlatform(err({ kind: "retry_later", status: 503, retryAfterSeconds: 5 }))).toBe(true);
  });

  it("a 5xx or timeout without Retry-After, a one-row conflict and a refused 403 do not", () => {
    expect(throttlesPlatform(err({ kind: "retry_later", status: 502 }))).toBe(false);
    expect(throttlesPlatform(err({ kind: "retry_later" }))).toBe(false);
    expect(throttlesPlatform(err({ kind: "conflict", status: 409, retryAfterSeconds: 1 }))).toBe(false);
    expect(throttlesPlatform(err({ kind: "refused", status: 403 }))).toBe(false);
  });
});
