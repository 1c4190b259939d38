/** The inline engine's fan-out order: units spread over the platforms, never one platform's backlog first. */
import { describe, expect, it } from "vitest";
import { runFanOut } from "@/lib/jobs/fan-out";

interface Unit {
  platform: string;
  n: number;
}
const units = (platform: string, count: number): Unit[] => Array.from({ length: count }, (_, n) => ({ platform, n }));

/** Runs the fan-out with units that finish only when the test says; answers what started, in order. */
function harness(events: Unit[], width: number) {
  const started: Unit[] = [];
  const finishers = new Map<Unit, () => void>();
  const done = runFanOut(events, width, (u) => u.platform, (u) => {
    started.push(u);
    return new Promise<void>((resolve) => finishers.set(u, resolve));
  });
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return { started, finish: async (u: Unit) => (finishers.get(u)!(), settle()), settle, done };
}

const label = (u: Unit) => `${u.platform}${u.n}`;

describe("inline fan-out order", () => {
  it("starts one unit of every platform before a second of any, whatever order the units come in", async () => {
    // Ordered by platform, as the jobs list their contexts: p0's ten first.
    const h = harness([...units("p0", 10), ...units("p1", 6), ...units("p2", 3)], 6);
    await h.settle();
    expect(h.started.map(label)).toEqual(["p00", "p10", "p20", "p01", "p11", "p21"]);
  });

  it("gives a freed slot to the platform with the fewest units running", async () => {
    const h = harness([...units("p0", 10), ...units("p1", 3)], 3);
    await h.settle();
    expect(h.started.map(label)).toEqual(["p00", "p10", "p01"]);
    // p1's unit ends: p1 has none running, p0 two — p1's next starts, not p0's third.
    await h.finish(h.started[1]);
    expect(h.started.map(label).slice(3)).toEqual(["p11"]);
    // p0's first ends: p0 one running, p1 one — the first queued (p0, the order kept among equals).
    await h.finish(h.started[0]);
    expect(h.started.map(label).slice(4)).toEqual(["p02"]);
  });

  it("runs every unit once, at most `width` at a time, and ends when the last is done", async () => {
    const events = [...units("p0", 5), ...units("p1", 2), ...units("", 2)];
    let running = 0;
    let most = 0;
    const seen: string[] = [];
    await runFanOut(events, 3, (u) => u.platform, async (u) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 1));
      seen.push(label(u));
      running--;
    });
    expect(seen.sort()).toEqual(events.map(label).sort());
    expect(most).toBe(3);
  });
});
