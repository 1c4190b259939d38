/** The inline fan-out: a few units of one platform at a time, platforms side by side. */
import { describe, expect, it } from "vitest";
import { fanOut } from "@/lib/jobs/fan-out";

describe("fanOut", () => {
  it("keeps every platform busy at once (a platform late in the list does not wait), at most perKey each, in order within one", async () => {
    // 100 platforms × 10 units, listed platform by platform (as the push lists contexts).
    const items = Array.from({ length: 1000 }, (_, i) => ({ platform: `p${Math.floor(i / 10)}`, n: i % 10 }));
    const running = new Map<string, number>();
    let active = 0;
    let maxActive = 0;
    let maxPerPlatform = 0;
    const order = new Map<string, number[]>();
    let lastStartedAtFirstRound = -1;
    await fanOut(
      items,
      (u) => u.platform,
      2,
      async (u) => {
        const r = (running.get(u.platform) ?? 0) + 1;
        running.set(u.platform, r);
        maxPerPlatform = Math.max(maxPerPlatform, r);
        maxActive = Math.max(maxActive, ++active);
        if (u.platform === "p99" && u.n === 0) lastStartedAtFirstRound = active;
        order.set(u.platform, [...(order.get(u.platform) ?? []), u.n]);
        await new Promise((res) => setTimeout(res, 1));
        active--;
        running.set(u.platform, r - 1);
      },
    );
    expect(maxPerPlatform).toBe(2);
    expect(maxActive).toBe(200);
    // The last platform's first unit starts with the first round, not after the others' units.
    expect(lastStartedAtFirstRound).toBeGreaterThan(0);
    expect(lastStartedAtFirstRound).toBeLessThanOrEqual(200);
    for (const ns of order.values()) expect(ns).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("runs items without a platform (one key) a few at a time", async () => {
    let active = 0;
    let maxActive = 0;
    const done: number[] = [];
    await fanOut(
      Array.from({ length: 20 }, (_, i) => i),
      () => "",
      4,
      async (i) => {
        maxActive = Math.max(maxActive, ++active);
        await new Promise((res) => setTimeout(res, 1));
        active--;
        done.push(i);
      },
    );
    expect(maxActive).toBe(4);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
