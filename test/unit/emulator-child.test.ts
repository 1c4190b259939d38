/** The bench's emulator process: how a benchmark sets throttles, knobs and controls through stdin. */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const API_KEY = "bench-child-test-key";
let child: ChildProcess;
let nextLine: () => Promise<string>;
let seeded: { url: string; triples: { platformId: string; lineItemId: string; serviceKey: string }[] };

const tell = async (cmd: string) => {
  child.stdin!.write(`${cmd}\n`);
  return nextLine();
};

beforeAll(async () => {
  child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "../bench/emulator-child.ts")], {
    env: {
      ...process.env,
      BENCH_API_KEY: API_KEY,
      BENCH_EMU_SPEC: JSON.stringify([
        { prefix: "cv", platforms: 2, contexts: 1, learners: 3 },
        { prefix: "ml", platforms: 1, contexts: 1, learners: 2, productFamilyCode: "moodle" },
      ]),
    },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  nextLine = async () => (await lines.next()).value as string;
  seeded = JSON.parse(await nextLine());
}, 30_000);

afterAll(() => {
  child?.stdin?.end();
  child?.kill();
});

const postScore = (t: (typeof seeded.triples)[number], userId: string) =>
  fetch(`${seeded.url}/api/lineitems/${encodeURIComponent(t.lineItemId)}/scores`, {
    method: "POST",
    headers: { authorization: `SERVICE-AUTH-V1 ${API_KEY}:${t.serviceKey}`, "content-type": "application/json" },
    body: JSON.stringify({ userId, activityProgress: "Completed", gradingProgress: "FullyGraded", scoreGiven: 1, scoreMaximum: 10 }),
  });

describe("bench emulator process", () => {
  it("sets a Canvas bucket whose cost sustains n in flight at the current latency, on every seeded platform or one", async () => {
    expect(seeded.triples.map((t) => t.platformId)).toEqual(["cv-p0", "cv-p1", "ml-p0"]);
    expect(await tell("latency 50")).toBe("ok");
    const all = JSON.parse(await tell(`throttle {"mode":"canvas","sustainableInFlight":4}`));
    expect(Object.keys(all)).toEqual(["cv-p0", "cv-p1", "ml-p0"]);
    expect(all["cv-p0"]).toMatchObject({ mode: "canvas", requestCost: 0.125, highWaterMark: 600, upFrontCost: 50, outflowPerSecond: 10 });

    const res = await postScore(seeded.triples[0], "u0");
    expect(res.status).toBe(204);
    expect(res.headers.get("x-request-cost")).toBe("0.125");

    const one = JSON.parse(await tell(`throttle {"platformId":"cv-p1","mode":"d2l","credits":10,"costPerCall":10,"relayHeaders":false}`));
    expect(Object.keys(one)).toEqual(["cv-p1"]);
    expect((await postScore(seeded.triples[1], "u0")).status).toBe(204);
    const refused = await postScore(seeded.triples[1], "u1");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBeNull();

    const stats = JSON.parse(await tell("stats"));
    expect(stats).toMatchObject({ throttled: { "cv-p1": 1 }, inFlightMax: { "cv-p0": 1, "cv-p1": 1 } });
    const status = JSON.parse(await tell("throttle-status"));
    expect(status["cv-p1"]).toMatchObject({ refused: 1, relayHeaders: false });
  });

  it("calls controls and sets fault knobs; refuses what it does not know", async () => {
    const ml = seeded.triples[2];
    expect(JSON.parse(await tell(`control {"method":"lmsFamily","args":["ml-p0"]}`))).toBe("moodle");
    expect(await tell(`control ${JSON.stringify({ method: "setHandGrade", args: [ml.lineItemId, "u1", 7] })}`)).toBe("ok");
    const cells = JSON.parse(await tell(`control ${JSON.stringify({ method: "gradebook", args: [ml.lineItemId] })}`));
    expect(cells).toEqual([expect.objectContaining({ userId: "u1", resultScore: 7, setBy: "person" })]);

    expect(await tell(`faults {"timestampRefusal":{"remaining":1},"notGradable":["u9"]}`)).toBe("ok");
    expect(await tell(`throttle {"mode":"none"}`)).toMatch(/^\{/);
    expect((await postScore(ml, "u0")).status).toBe(409);
    expect((await postScore(ml, "u0")).status).toBe(204);

    expect(await tell(`control {"method":"reset"}`)).toMatch(/^error not a control: reset/);
    expect(await tell("explode")).toBe("error unknown command: explode");
    expect(await tell(`throttle {"mode":"d2l","windowSeconds":0}`)).toMatch(/^error throttle d2l: windowSeconds/);
  });
});
