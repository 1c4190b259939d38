import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GET } from "@/app/launch/route";
import { open } from "@/lib/crypto/seal";
import { setEnvForTests } from "@/lib/env";
import * as t from "@/lib/db/schema";
import { verifySession } from "@/lib/session/session";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { testEnv } from "../support/env";

const INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
const LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";
const MENTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor";

const db = useTestDb();
const emu = useEmulator();

beforeAll(() => setEnvForTests(testEnv({ LTIAAS_URL: emu.url })));
afterAll(() => setEnvForTests(testEnv()));
beforeEach(async () => {
  await truncateAll(db.db);
  emu.emulator.reset();
});

const launchReq = (ltik?: string) => new Request(`http://localhost/launch${ltik === undefined ? "" : `?ltik=${encodeURIComponent(ltik)}`}`);

function teacherLaunch(extra: Record<string, unknown> = {}) {
  return emu.emulator.createLaunch({
    platformId: "canvas-1",
    contextId: "course-7",
    contextTitle: "Biology",
    resourceLinkId: "link-3",
    resourceLinkTitle: "Lab 3",
    user: { id: "teacher-1", name: "Ada Teacher" },
    roles: [INSTRUCTOR],
    ...extra,
  });
}

async function rowCounts() {
  const d = db.db;
  return {
    platforms: await d.$count(t.platforms),
    contexts: await d.$count(t.contexts),
    resourceLinks: await d.$count(t.resourceLinks),
    users: await d.$count(t.users),
    memberships: await d.$count(t.memberships),
    serviceKeys: await d.$count(t.serviceKeys),
  };
}

describe("GET /launch", () => {
  it("persists the triple, seals the serviceKey and sends a teacher to the status page with a session", async () => {
    const { ltik, serviceKey } = teacherLaunch({ lineItemId: "https://lms.example.com/api/lti/courses/7/line_items/1" });
    const res = await GET(launchReq(ltik));
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get("location")!, "http://localhost");
    expect(location.pathname).toMatch(/^\/contexts\/[0-9a-f-]{36}$/);
    const token = location.searchParams.get("s")!;
    const session = await verifySession(token);
    expect(session?.role).toBe("teacher");
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toContain("Partitioned");
    expect(cookie).toContain("SameSite=None");
    expect(cookie).toContain("Secure");

    expect(await rowCounts()).toEqual({ platforms: 1, contexts: 1, resourceLinks: 1, users: 1, memberships: 1, serviceKeys: 1 });
    const [link] = await db.db.select().from(t.resourceLinks);
    expect(location.pathname).toBe(`/contexts/${link.id}`);
    expect(link.launchLineItemId).toBe("https://lms.example.com/api/lti/courses/7/line_items/1");
    const [key] = await db.db.select().from(t.serviceKeys);
    expect(key.sealed).not.toContain(serviceKey!);
    expect(key.state).toBe("active");
    const triple = { platformId: "canvas-1", contextId: "course-7", resourceLinkId: "link-3" };
    await expect(open(key.sealed, triple)).resolves.toBe(serviceKey);
    const [member] = await db.db.select().from(t.memberships);
    expect(member.kind).toBe("teacher");
    expect(member.roles).toEqual([INSTRUCTOR]);
    expect(session?.contextRef).toBe(link.contextRef);
  });

  it("overwrites the key on every launch and keeps one row per triple", async () => {
    const first = teacherLaunch();
    await GET(launchReq(first.ltik));
    const [before] = await db.db.select().from(t.serviceKeys);
    await db.db.update(t.serviceKeys).set({ state: "needs_relaunch", stateReason: "401" });
    const second = teacherLaunch({ lineItemId: undefined });
    expect(second.serviceKey).not.toBe(first.serviceKey);
    await GET(launchReq(second.ltik));
    const keys = await db.db.select().from(t.serviceKeys);
    expect(keys).toHaveLength(1);
    expect(keys[0].sealed).not.toBe(before.sealed);
    expect(keys[0].state).toBe("active");
    expect(keys[0].stateReason).toBeNull();
    const triple = { platformId: "canvas-1", contextId: "course-7", resourceLinkId: "link-3" };
    await expect(open(keys[0].sealed, triple)).resolves.toBe(second.serviceKey);
  });

  it("sends a learner to the activity page; Instructor+Learner counts as teacher", async () => {
    const odd = 'urn:x-role:"quoted", with {braces}\\';
    const learner = emu.emulator.createLaunch({ platformId: "p", contextId: "c", resourceLinkId: "r", user: { id: "s1" }, roles: [LEARNER, odd] });
    const res = await GET(launchReq(learner.ltik));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toMatch(/^\/activity\/[0-9a-f-]{36}\?s=/);
    expect((await db.db.select().from(t.memberships))[0].roles).toEqual([LEARNER, odd]);
    const both = emu.emulator.createLaunch({ platformId: "p", contextId: "c", resourceLinkId: "r", user: { id: "t2" }, roles: [INSTRUCTOR, LEARNER] });
    expect((await GET(launchReq(both.ltik))).headers.get("location")).toMatch(/^\/contexts\//);
  });

  it("stores LMS text that carries a NUL character (Postgres text cannot hold one) instead of failing the launch", async () => {
    const { ltik } = teacherLaunch({ user: { id: "teacher-1", name: "Ada\u0000Teacher" }, contextTitle: "Bio\u0000logy" });
    expect((await GET(launchReq(ltik))).status).toBe(303);
    expect((await db.db.select().from(t.users))[0].name).toBe("AdaTeacher");
    expect((await db.db.select().from(t.contexts))[0].title).toBe("Biology");
  });

  it("keeps no key when the launch has no grade or roster services", async () => {
    const { ltik, serviceKey } = teacherLaunch({ ags: false, nrps: false });
    expect(serviceKey).toBeUndefined();
    expect((await GET(launchReq(ltik))).status).toBe(303);
    expect((await rowCounts()).serviceKeys).toBe(0);
  });

  const refusals: [string, number, () => string | undefined][] = [
    ["missing ltik", 400, () => undefined],
    ["empty ltik", 400, () => ""],
    ["unknown ltik", 401, () => "not-a-real-ltik"],
    ["deep linking launch", 400, () => teacherLaunch({ messageType: "LtiDeepLinkingRequest" }).ltik],
    ["no course context", 400, () => emu.emulator.createLaunch({ user: { id: "u" }, roles: [INSTRUCTOR], noContext: true }).ltik],
    ["observer only", 403, () => teacherLaunch({ roles: [MENTOR] }).ltik],
  ];
  it.each(refusals)("answers %s with %i and a human page", async (_name, status, makeLtik) => {
    const res = await GET(launchReq(makeLtik()));
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toContain("text/html");
    const body = await res.text();
    expect(body).toMatch(/<h1>[^<]+<\/h1>/);
    expect(body).not.toMatch(/at .*\.ts:\d+|Error:/);
    expect((await rowCounts()).platforms).toBe(0);
  });

  it("answers 401 for an expired ltik and 502 when LTIAAS fails", async () => {
    const expired = teacherLaunch();
    emu.emulator.expireLtik(expired.ltik);
    expect((await GET(launchReq(expired.ltik))).status).toBe(401);
    const down = teacherLaunch();
    emu.emulator.faults.serverErrors = { status: 503, remaining: 1 };
    const res = await GET(launchReq(down.ltik));
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("did not answer");
  });

  it("answers 401 for an LMS that LTIAAS no longer accepts, saying who can fix it", async () => {
    const l = teacherLaunch();
    emu.emulator.faults.inactivePlatforms.add("canvas-1");
    const res = await GET(launchReq(l.ltik));
    expect(res.status).toBe(401);
    const body = await res.text();
    expect(body).toContain("administrator");
    expect(body).not.toContain("expire");
    expect((await rowCounts()).platforms).toBe(0);
  });

  it("answers 401 when LTIAAS throttles the launch (a 4xx), saying to wait", async () => {
    const l = teacherLaunch();
    emu.emulator.faults.rateLimit = { style: "429", retryAfterSeconds: 30, remaining: 1 };
    const res = await GET(launchReq(l.ltik));
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("Wait a minute");
    expect((await rowCounts()).platforms).toBe(0);
  });

  it("answers 502 for an id token that does not parse", async () => {
    const l = emu.emulator.createLaunch({ platformId: "p", contextId: "c", resourceLinkId: "r", user: { id: "" }, roles: [INSTRUCTOR] });
    const res = await GET(launchReq(l.ltik));
    expect(res.status).toBe(502);
    expect(await res.text()).not.toMatch(/at .*\.ts:\d+|Error:|ZodError/);
    expect((await rowCounts()).platforms).toBe(0);
  });

  // CI runs this file on Postgres too, where the 20 launches really run side by side (PGlite
  // serialises them on its one connection).
  it("leaves one row of each kind after 20 concurrent launches of one triple", async () => {
    const launches = Array.from({ length: 20 }, (_, i) =>
      emu.emulator.createLaunch({ platformId: "p", contextId: "c", resourceLinkId: "r", user: { id: `u${i % 4}` }, roles: [i % 4 === 0 ? INSTRUCTOR : LEARNER] }),
    );
    const answers = await Promise.all(launches.map((l) => GET(launchReq(l.ltik))));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(303));
    expect(await rowCounts()).toEqual({ platforms: 1, contexts: 1, resourceLinks: 1, users: 4, memberships: 4, serviceKeys: 1 });
    const [key] = await db.db.select().from(t.serviceKeys);
    const triple = { platformId: "p", contextId: "c", resourceLinkId: "r" };
    expect(launches.map((l) => l.serviceKey)).toContain(await open(key.sealed, triple));
  });
});
