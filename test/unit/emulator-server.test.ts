import { describe, expect, it } from "vitest";
import { startEmulatorServer } from "@/lib/emulator/server";
import { useEmulator } from "../support/emulator";
import { TEST_KEYS } from "../support/env";

const emu = useEmulator({ resetEach: true });
const auth = (serviceKey: string) => ({ authorization: `SERVICE-AUTH-V1 ${TEST_KEYS.apiKey}:${serviceKey}` });

function course() {
  const { ltik, serviceKey } = emu.emulator.createLaunch({
    platformId: "p1",
    contextId: "c1",
    resourceLinkId: "r1",
    user: { id: "s1" },
    roles: ["Learner"],
  });
  const lineItemId = emu.emulator.addLineItem("p1", "c1", { label: "Lab", scoreMaximum: 10 });
  return { ltik, serviceKey: serviceKey!, scores: `${emu.url}/api/lineitems/${encodeURIComponent(lineItemId)}/scores`, lineItemId };
}

const post = (url: string, headers: Record<string, string>, signal?: AbortSignal) =>
  fetch(url, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ userId: "s1", activityProgress: "Completed", gradingProgress: "FullyGraded", scoreGiven: 0, scoreMaximum: 10 }),
    signal,
  });

describe("emulator over HTTP", () => {
  it("serves the API on a local port", async () => {
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const c = course();
    const idtoken = await fetch(`${emu.url}/api/idtoken`, { headers: { authorization: `LTIK-AUTH-V2 ${TEST_KEYS.apiKey}:${c.ltik}` } });
    expect(idtoken.status).toBe(200);
    expect((await idtoken.json()).services.serviceKey).toBe(c.serviceKey);
    expect((await post(c.scores, auth(c.serviceKey))).status).toBe(204);
    expect(emu.emulator.scores(c.lineItemId)).toHaveLength(1);
    const throttled = (emu.emulator.faults.rateLimit = { style: "429", retryAfterSeconds: 3, remaining: 1 });
    const res = await post(c.scores, auth(c.serviceKey));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("3");
    expect(throttled.remaining).toBe(0);
  });

  it("hangs past a client's timeout, and a request the client gave up on changes nothing", async () => {
    const c = course();
    // Longer than the test's own timeout: only the client going away can end this hang.
    emu.emulator.faults.hangMs = 600_000;
    await expect(post(c.scores, auth(c.serviceKey), AbortSignal.timeout(100))).rejects.toThrow();
    await expect.poll(() => emu.emulator.log.at(-1)?.status, { timeout: 3_000 }).toBe(499);
    expect(emu.emulator.scores(c.lineItemId)).toEqual([]);
    expect(emu.emulator.stats().inFlightByPlatform).toEqual({ p1: 0 });
  });

  it("mounts under a base path, as inside Next", async () => {
    const server = await startEmulatorServer({ apiKey: TEST_KEYS.apiKey, basePath: "/emulator" });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/emulator$/);
      const lms = await fetch(`${server.url}/lms/launch?link=bio101-lab1&user=u-ada`);
      expect(lms.status).toBe(200);
      const html = await lms.text();
      const port = new URL(server.url).port;
      expect(html).toContain(`src="http://localhost:${port}/launch?ltik=`);
      const unauth = await fetch(`${server.url}/api/lineitems`);
      expect(unauth.status).toBe(401);
      expect(await unauth.json()).toMatchObject({ status: 401, error: "Unauthorized" });
    } finally {
      await server.close();
    }
  });
});
