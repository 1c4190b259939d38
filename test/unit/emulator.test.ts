import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createEmulator, type Emulator, type LaunchInput } from "@/lib/emulator";
import { TEST_KEYS } from "../support/env";

const API_KEY = TEST_KEYS.apiKey;
const ORIGIN = "http://127.0.0.1:4000";
const INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
const LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";
const TEST_USER = "http://purl.imsglobal.org/vocab/lti/system/person#TestUser";

const ltikAuth = (ltik: string, key = API_KEY) => `LTIK-AUTH-V2 ${key}:${ltik}`;
const keyAuth = (serviceKey: string, key = API_KEY) => `SERVICE-AUTH-V1 ${key}:${serviceKey}`;
const enc = encodeURIComponent;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function call(emu: Emulator, method: string, path: string, auth?: string, body?: unknown, signal?: AbortSignal): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (auth) headers.authorization = auth;
  if (body !== undefined) headers["content-type"] = "application/json";
  const url = /^https?:/.test(path) ? path : `${ORIGIN}${path}`;
  const res = await emu.handle(new Request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal }));
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

const launchInput = (over: Partial<LaunchInput> = {}): LaunchInput => ({
  platformId: "p1",
  contextId: "c1",
  contextTitle: "Biology",
  contextLabel: "BIO",
  resourceLinkId: "r1",
  resourceLinkTitle: "Lab 3",
  user: { id: "teacher-1", name: "Ada Teacher", email: "ada@example.edu" },
  roles: [INSTRUCTOR],
  ...over,
});

const score = (userId: string, over: Record<string, unknown> = {}) => ({
  userId,
  activityProgress: "Completed",
  gradingProgress: "FullyGraded",
  scoreGiven: 7,
  scoreMaximum: 10,
  comment: "ok",
  ...over,
});

let emu: Emulator;
beforeEach(() => {
  emu = createEmulator({ apiKey: API_KEY });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A course with a line item, a teacher's service key and two learners on the roster. */
function gradedCourse(platformId = "p1", contextId = "c1") {
  const { serviceKey, ltik } = emu.createLaunch(launchInput({ platformId, contextId }));
  emu.setRoster(platformId, contextId, [
    { userId: "s1", roles: [LEARNER] },
    { userId: "s2", roles: ["Learner"], status: "Active" },
  ]);
  const lineItemId = emu.addLineItem(platformId, contextId, { label: "Lab 3", scoreMaximum: 100, resourceLinkId: "r1" });
  return { serviceKey: serviceKey!, ltik, lineItemId, scores: `/api/lineitems/${enc(lineItemId)}/scores` };
}

describe("authentication", () => {
  it("accepts each scheme where LTIAAS does and answers 401 in LTIAAS's shape otherwise", async () => {
    const { ltik, serviceKey } = emu.createLaunch(launchInput());
    expect((await call(emu, "GET", "/api/idtoken", ltikAuth(ltik))).status).toBe(200);
    expect((await call(emu, "GET", "/api/lineitems", ltikAuth(ltik))).status).toBe(200);
    expect((await call(emu, "GET", "/api/lineitems", keyAuth(serviceKey!))).status).toBe(200);
    expect((await call(emu, "GET", "/api/memberships", keyAuth(serviceKey!))).status).toBe(200);

    const cases: [string | undefined, string][] = [
      [ltikAuth(ltik, "wrong-key"), "INVALID_LTIK_AUTH_AUTHORIZATION_HEADER"],
      [ltikAuth("not-a-ltik"), "INVALID_LTIK_AUTH_AUTHORIZATION_HEADER"],
      [`LTIK-AUTH-V2 ${ltik}`, "INVALID_LTIK_AUTH_AUTHORIZATION_HEADER"],
      [keyAuth(serviceKey!, "wrong-key"), "INVALID_SERVICE_KEY_AUTH_AUTHORIZATION_HEADER"],
      [keyAuth("not-a-key"), "INVALID_SERVICE_KEY_AUTH_AUTHORIZATION_HEADER"],
      [undefined, "MISSING_OR_INVALID_AUTHORIZATION_HEADER"],
      [`Basic ${API_KEY}`, "MISSING_OR_INVALID_AUTHORIZATION_HEADER"],
      ["Bearer wrong-key", "INVALID_API_KEY_AUTH_AUTHORIZATION_HEADER"],
      [`Bearer ${API_KEY}`, "UNSUPPORTED_AUTHENTICATION_METHOD"],
    ];
    for (const [auth, message] of cases) {
      const a = await call(emu, "GET", "/api/lineitems", auth);
      expect(a.status, String(auth)).toBe(401);
      expect(a.body).toEqual({ status: 401, error: "Unauthorized", details: { message, description: expect.any(String) } });
    }
  });

  it("takes only an ltik on /api/idtoken", async () => {
    const { serviceKey } = emu.createLaunch(launchInput());
    const a = await call(emu, "GET", "/api/idtoken", keyAuth(serviceKey!));
    expect(a.status).toBe(401);
    expect(a.body.details.message).toBe("UNSUPPORTED_AUTHENTICATION_METHOD");
    expect((await call(emu, "GET", "/api/idtoken", `Bearer ${API_KEY}`)).status).toBe(401);
  });

  it("refuses a revoked service key while older keys of the same triple stay valid", async () => {
    const first = emu.createLaunch(launchInput()).serviceKey!;
    const second = emu.createLaunch(launchInput()).serviceKey!;
    expect(second).not.toBe(first);
    emu.revokeServiceKey(second);
    const a = await call(emu, "GET", "/api/lineitems", keyAuth(second));
    expect(a.status).toBe(401);
    expect(a.body.details.message).toBe("INVALID_SERVICE_KEY_AUTH_AUTHORIZATION_HEADER");
    expect((await call(emu, "GET", "/api/lineitems", keyAuth(first))).status).toBe(200);
  });

  it("expires an ltik on demand and 24 hours after its launch; the service key lives on", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-11-27T10:00:00Z"));
    const a = emu.createLaunch(launchInput());
    const b = emu.createLaunch(launchInput());
    emu.expireLtik(a.ltik);
    expect((await call(emu, "GET", "/api/idtoken", ltikAuth(a.ltik))).body.details.message).toBe("INVALID_LTIK_AUTH_AUTHORIZATION_HEADER");
    vi.setSystemTime(new Date("2026-11-28T09:59:59Z"));
    expect((await call(emu, "GET", "/api/idtoken", ltikAuth(b.ltik))).status).toBe(200);
    vi.setSystemTime(new Date("2026-11-28T10:00:00Z"));
    expect((await call(emu, "GET", "/api/idtoken", ltikAuth(b.ltik))).status).toBe(401);
    expect((await call(emu, "GET", "/api/lineitems", keyAuth(b.serviceKey!))).status).toBe(200);
  });

  it("logs every API request with its scheme and platform, never a key", async () => {
    const { ltik, serviceKey } = emu.createLaunch(launchInput());
    await call(emu, "GET", "/api/idtoken", ltikAuth(ltik));
    await call(emu, "GET", "/api/memberships?role=Learner", keyAuth(serviceKey!));
    await call(emu, "GET", "/api/lineitems", keyAuth("nope"));
    expect(emu.log.map(({ method, path, auth, platformId, status }) => ({ method, path, auth, platformId, status }))).toEqual([
      { method: "GET", path: "/api/idtoken", auth: "ltik", platformId: "p1", status: 200 },
      { method: "GET", path: "/api/memberships?role=Learner", auth: "serviceKey", platformId: "p1", status: 200 },
      { method: "GET", path: "/api/lineitems", auth: "serviceKey", platformId: undefined, status: 401 },
    ]);
    const logged = JSON.stringify(emu.log);
    for (const secret of [API_KEY, ltik, serviceKey!]) expect(logged).not.toContain(secret);
    expect(emu.stats().requests).toBe(3);
  });

  it("answers 400 UNREGISTERED_OR_INACTIVE_PLATFORM for a deactivated platform", async () => {
    const { ltik } = emu.createLaunch(launchInput());
    emu.faults.inactivePlatforms.add("p1");
    const a = await call(emu, "GET", "/api/idtoken", ltikAuth(ltik));
    expect(a.status).toBe(400);
    expect(a.body.details.message).toBe("UNREGISTERED_OR_INACTIVE_PLATFORM");
  });
});

describe("GET /api/idtoken", () => {
  it("has the reference's shape, with documentTarget or document_target as asked", async () => {
    const { ltik, serviceKey, idtoken } = emu.createLaunch(launchInput({ lineItemId: "https://lms.example/li/1", productFamilyCode: "moodle" }));
    const a = await call(emu, "GET", "/api/idtoken", ltikAuth(ltik));
    expect(a.body).toEqual(idtoken);
    expect(a.body).toMatchObject({
      ltiVersion: "1.3.0",
      user: { id: "teacher-1", roles: [INSTRUCTOR], name: "Ada Teacher", email: "ada@example.edu" },
      platform: { id: "p1", url: "https://p1.lms.example.com", clientId: expect.any(String), deploymentId: "1", productFamilyCode: "moodle" },
      launch: {
        type: "LtiResourceLinkRequest",
        context: { id: "c1", label: "BIO", title: "Biology", type: ["CourseSection"] },
        resourceLink: { id: "r1", title: "Lab 3" },
        presentation: { documentTarget: "iframe", locale: "en" },
        custom: {},
      },
      services: {
        assignmentAndGrades: { available: true, lineItemId: "https://lms.example/li/1" },
        namesAndRoles: { available: true },
        deepLinking: { available: false },
        serviceKey,
      },
    });
    const other = emu.createLaunch(launchInput({ documentTargetSpelling: "document_target" }));
    const b = (await call(emu, "GET", "/api/idtoken", ltikAuth(other.ltik))).body;
    expect(b.launch.presentation).toMatchObject({ document_target: "iframe" });
    expect(b.launch.presentation).not.toHaveProperty("documentTarget");
    expect(b.services.assignmentAndGrades).toEqual({ available: true });
  });

  it("issues a serviceKey only with AGS or NRPS in a course; expands short role names", async () => {
    expect(emu.createLaunch(launchInput({ ags: false })).serviceKey).toBeDefined();
    expect(emu.createLaunch(launchInput({ nrps: false })).serviceKey).toBeDefined();
    const none = emu.createLaunch(launchInput({ ags: false, nrps: false, roles: ["Learner", "TestUser"] }));
    expect(none.serviceKey).toBeUndefined();
    expect(none.idtoken).toMatchObject({ user: { roles: [LEARNER, TEST_USER] }, services: { assignmentAndGrades: { available: false } } });
    expect((none.idtoken as { services: object }).services).not.toHaveProperty("serviceKey");

    const noCourse = emu.createLaunch({ user: { id: "u" }, roles: [INSTRUCTOR], resourceLinkId: "r" });
    expect(noCourse.serviceKey).toBeUndefined();
    expect((noCourse.idtoken as { launch: object }).launch).not.toHaveProperty("context");

    const deep = emu.createLaunch(launchInput({ messageType: "LtiDeepLinkingRequest" }));
    expect(deep.idtoken).toMatchObject({ launch: { type: "LtiDeepLinkingRequest" }, services: { deepLinking: { available: true } } });
    expect((deep.idtoken as { launch: object }).launch).not.toHaveProperty("resourceLink");
  });

  it("answers SERVICE_NOT_AVAILABLE_FOR_CONTEXT for a service the launch did not offer", async () => {
    const { serviceKey } = emu.createLaunch(launchInput({ nrps: false }));
    const a = await call(emu, "GET", "/api/memberships", keyAuth(serviceKey!));
    expect(a.status).toBe(400);
    expect(a.body.details.message).toBe("SERVICE_NOT_AVAILABLE_FOR_CONTEXT");
  });
});

describe("line items", () => {
  it("creates a new column on every POST and validates the body", async () => {
    const { serviceKey } = emu.createLaunch(launchInput());
    const body = { label: "Lab 3", scoreMaximum: 10, resourceLinkId: "r1", tag: "gradesync" };
    const one = await call(emu, "POST", "/api/lineitems", keyAuth(serviceKey!), body);
    const two = await call(emu, "POST", "/api/lineitems", keyAuth(serviceKey!), body);
    expect(one.status).toBe(201);
    expect(one.body).toEqual({ ...body, id: expect.stringMatching(/^https:\/\/p1\.lms\.example\.com\/api\/lti\/courses\/c1\/line_items\/\d+$/) });
    expect(two.body.id).not.toBe(one.body.id);
    expect(emu.lineItems("p1", "c1")).toHaveLength(2);

    for (const bad of [{ label: "x", scoreMaximum: 0 }, { scoreMaximum: 10 }, { label: "", scoreMaximum: 1 }, { label: "x", scoreMaximum: "10" }]) {
      const a = await call(emu, "POST", "/api/lineitems", keyAuth(serviceKey!), bad);
      expect(a.status, JSON.stringify(bad)).toBe(400);
      expect(a.body).toMatchObject({ status: 400, error: "Bad Request", details: { message: "INVALID_PARAMETERS" } });
    }
    expect(emu.lineItems("p1", "c1")).toHaveLength(2);
  });

  it("pages with next links, followed by ?url= or directly, keeping the filters", async () => {
    const { serviceKey } = emu.createLaunch(launchInput());
    for (let i = 0; i < 7; i++) emu.addLineItem("p1", "c1", { label: `L${i}`, scoreMaximum: 10, resourceLinkId: i === 6 ? "other" : "r1" });
    emu.addLineItem("p1", "c2", { label: "elsewhere", scoreMaximum: 10, resourceLinkId: "r1" });

    const first = await call(emu, "GET", "/api/lineitems?resourceLinkId=r1&limit=4", keyAuth(serviceKey!));
    expect(first.body.lineItems.map((i: { label: string }) => i.label)).toEqual(["L0", "L1", "L2", "L3"]);
    const next: string = first.body.next;
    expect(next).toMatch(new RegExp(`^${ORIGIN}/api/lineitems\\?url=`));
    const lmsNext = new URL(next).searchParams.get("url")!;
    expect(lmsNext).toMatch(/^https:\/\/p1\.lms\.example\.com\/api\/lti\/courses\/c1\/line_items\?/);

    // As the docs show: send the next link URL-encoded in ?url= (other parameters are ignored) …
    const viaParam = await call(emu, "GET", `/api/lineitems?url=${enc(next)}&limit=1`, keyAuth(serviceKey!));
    // … or the LMS URL inside it, or GET the link itself.
    const viaLms = await call(emu, "GET", `/api/lineitems?url=${enc(lmsNext)}`, keyAuth(serviceKey!));
    const direct = await call(emu, "GET", next, keyAuth(serviceKey!));
    for (const page of [viaParam, viaLms, direct]) {
      expect(page.status).toBe(200);
      expect(page.body.lineItems.map((i: { label: string }) => i.label)).toEqual(["L4", "L5"]);
      expect(page.body).not.toHaveProperty("next");
    }
  });

  it("keeps each context's line items to its own keys", async () => {
    const a = emu.createLaunch(launchInput({ contextId: "c1" }));
    const b = emu.createLaunch(launchInput({ contextId: "c2" }));
    const id = emu.addLineItem("p1", "c2", { label: "B", scoreMaximum: 5 });
    expect((await call(emu, "GET", `/api/lineitems/${enc(id)}`, keyAuth(a.serviceKey!))).status).toBe(404);
    expect((await call(emu, "GET", "/api/lineitems", keyAuth(a.serviceKey!))).body.lineItems).toEqual([]);
    expect((await call(emu, "GET", `/api/lineitems/${enc(id)}`, ltikAuth(b.ltik))).body).toEqual({ id, label: "B", scoreMaximum: 5 });
    const other = emu.addLineItem("p1", "c2", { label: "B2", scoreMaximum: 5 });
    const lmsUrl = `https://p1.lms.example.com/api/lti/courses/c2/line_items?page=1&per_page=1`;
    expect((await call(emu, "GET", `/api/lineitems?url=${enc(lmsUrl)}`, keyAuth(a.serviceKey!))).status).toBe(400);
    expect(other).not.toBe(id);
  });

  it("reads, replaces and deletes one item by its encoded id", async () => {
    const { serviceKey } = emu.createLaunch(launchInput());
    const id = emu.addLineItem("p1", "c1", { label: "Lab", scoreMaximum: 10, resourceLinkId: "r1", tag: "t" });
    const path = `/api/lineitems/${enc(id)}`;
    expect((await call(emu, "GET", path, keyAuth(serviceKey!))).body).toEqual({ id, label: "Lab", scoreMaximum: 10, resourceLinkId: "r1", tag: "t" });
    const put = await call(emu, "PUT", path, keyAuth(serviceKey!), { label: "Lab (renamed)", scoreMaximum: 20 });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ id, label: "Lab (renamed)", scoreMaximum: 20 });
    expect((await call(emu, "PUT", path, keyAuth(serviceKey!), { label: "x", scoreMaximum: -1 })).status).toBe(400);
    expect((await call(emu, "DELETE", path, keyAuth(serviceKey!))).status).toBe(204);
    const gone = await call(emu, "GET", path, keyAuth(serviceKey!));
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ status: 404, error: "Not Found" });
    expect(emu.lineItems("p1", "c1")).toEqual([]);
  });
});

describe("scores", () => {
  it("accepts a score of 0 and records what the LMS took, in order, with its timestamp", async () => {
    const c = gradedCourse();
    expect((await call(emu, "POST", c.scores, keyAuth(c.serviceKey), score("s1", { scoreGiven: 0 }))).status).toBe(204);
    expect((await call(emu, "POST", c.scores, ltikAuth(c.ltik), score("s2"))).status).toBe(204);
    expect((await call(emu, "POST", c.scores, keyAuth(c.serviceKey), { userId: "s2", activityProgress: "Started", gradingProgress: "Pending" })).status).toBe(204);
    const posts = emu.scores(c.lineItemId);
    expect(posts.map(({ userId, scoreGiven, gradingProgress, auth }) => ({ userId, scoreGiven, gradingProgress, auth }))).toEqual([
      { userId: "s1", scoreGiven: 0, gradingProgress: "FullyGraded", auth: "serviceKey" },
      { userId: "s2", scoreGiven: 7, gradingProgress: "FullyGraded", auth: "ltik" },
      { userId: "s2", scoreGiven: undefined, gradingProgress: "Pending", auth: "serviceKey" },
    ]);
    expect(Date.parse(posts[0].timestamp)).not.toBeNaN();
    expect(emu.log.filter((r) => r.method === "POST").map((r) => r.userId)).toEqual(["s1", "s2", "s2"]);

    // Results: the latest per user, scaled to the column; a Pending score cleared s2's grade.
    const results = await call(emu, "GET", `${c.scores}?limit=10`, keyAuth(c.serviceKey));
    expect(results.body).toEqual({
      scores: [
        { id: expect.any(String), userId: "s1", scoreOf: c.lineItemId, resultScore: 0, resultMaximum: 100, comment: "ok" },
        { id: expect.any(String), userId: "s2", scoreOf: c.lineItemId },
      ],
    });
    const one = await call(emu, "GET", `${c.scores}?userId=s1`, keyAuth(c.serviceKey));
    expect(one.body.scores.map((s: { userId: string }) => s.userId)).toEqual(["s1"]);
  });

  it("validates the body in LTIAAS's shape", async () => {
    const c = gradedCourse();
    for (const bad of [
      score("s1", { scoreGiven: -1 }),
      score("s1", { scoreMaximum: undefined }),
      score("s1", { scoreMaximum: 0 }),
      score("s1", { activityProgress: "Done" }),
      score("s1", { gradingProgress: "Graded" }),
      score("", {}),
    ]) {
      const a = await call(emu, "POST", c.scores, keyAuth(c.serviceKey), bad);
      expect(a.status, JSON.stringify(bad)).toBe(400);
      expect(a.body.details.message).toBe("INVALID_PARAMETERS");
    }
    expect(emu.scores(c.lineItemId)).toEqual([]);
  });

  it("answers 404 for a deleted line item and the LMS's 422 for who cannot be graded", async () => {
    const c = gradedCourse();
    emu.setRoster("p1", "c1", [
      { userId: "s1", roles: [LEARNER] },
      { userId: "gone", roles: [LEARNER], status: "Deleted" },
      { userId: "ts", roles: [LEARNER, TEST_USER] },
      { userId: "ta", roles: ["TeachingAssistant"] },
    ]);
    emu.faults.notGradable.add("s1");
    for (const userId of ["s1", "gone", "ts", "ta", "teacher-1", "stranger"]) {
      const a = await call(emu, "POST", c.scores, keyAuth(c.serviceKey), score(userId));
      expect(a.status, userId).toBe(422);
      expect(a.body).toEqual({ status: 422, error: "Unprocessable Entity", details: { message: "User not found in course or is not a student" } });
    }
    emu.faults.notGradable.clear();
    emu.faults.maxAttempts.add("s1");
    const max = await call(emu, "POST", c.scores, keyAuth(c.serviceKey), score("s1"));
    expect(max.status).toBe(422);
    expect(max.body.details.message).toContain("maximum number of allowed attempts");

    emu.deleteLineItem(c.lineItemId);
    expect((await call(emu, "POST", c.scores, keyAuth(c.serviceKey), score("s1"))).status).toBe(404);
    expect(emu.scores(c.lineItemId)).toEqual([]);
  });

  it("refuses a second update within one second like Moodle, when asked", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const c = gradedCourse();
    vi.setSystemTime(new Date("2026-11-27T10:00:00.100Z"));
    expect((await call(emu, "POST", c.scores, keyAuth(c.serviceKey), score("s1"))).status).toBe(204);
    vi.setSystemTime(new Date("2026-11-27T10:00:00.900Z"));
    expect((await call(emu, "POST", c.scores, keyAuth(c.serviceKey), score("s1"))).status).toBe(204);
    emu.faults.moodleSameSecond = true;
    vi.setSystemTime(new Date("2026-11-27T10:00:00.950Z"));
    const refused = await call(emu, "POST", c.scores, keyAuth(c.serviceKey), score("s1"));
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ status: 409, error: "Conflict", details: { message: expect.stringContaining("Refusing score with an earlier timestamp for item") } });
    expect((await call(emu, "POST", c.scores, keyAuth(c.serviceKey), score("s2"))).status).toBe(204);
    vi.setSystemTime(new Date("2026-11-27T10:00:01.000Z"));
    expect((await call(emu, "POST", c.scores, keyAuth(c.serviceKey), score("s1"))).status).toBe(204);
    expect(emu.scores(c.lineItemId).map((p) => p.timestamp)).toEqual([
      "2026-11-27T10:00:00.100Z",
      "2026-11-27T10:00:00.900Z",
      "2026-11-27T10:00:00.950Z",
      "2026-11-27T10:00:01.000Z",
    ]);
  });
});

describe("faults", () => {
  it("throttles the next requests with 429 and Retry-After, for one platform if asked", async () => {
    const c = gradedCourse("p1");
    const d = gradedCourse("p2");
    emu.faults.rateLimit = { style: "429", retryAfterSeconds: 7, remaining: 2, platformId: "p1" };
    expect((await call(emu, "POST", d.scores, keyAuth(d.serviceKey), score("s1"))).status).toBe(204);
    for (let i = 0; i < 2; i++) {
      const a = await call(emu, "POST", c.scores, keyAuth(c.serviceKey), score("s1"));
      expect(a.status).toBe(429);
      expect(a.headers.get("retry-after")).toBe("7");
      expect(a.body).toMatchObject({ status: 429, error: "Too Many Requests" });
    }
    expect((await call(emu, "POST", c.scores, keyAuth(c.serviceKey), score("s1"))).status).toBe(204);
    expect(emu.scores(c.lineItemId)).toHaveLength(1);
  });

  it("answers Canvas's 403 Rate Limit Exceeded", async () => {
    const c = gradedCourse();
    emu.faults.rateLimit = { style: "canvas403", remaining: 1 };
    const a = await call(emu, "POST", c.scores, keyAuth(c.serviceKey), score("s1"));
    expect(a.status).toBe(403);
    expect(a.text).toContain("Rate Limit Exceeded");
    expect(a.headers.get("retry-after")).toBeNull();
  });

  it("fails with 500 in LTIAAS's shape and 502/503 as a gateway page", async () => {
    const c = gradedCourse();
    emu.faults.serverErrors = { status: 500, remaining: 1 };
    const a = await call(emu, "GET", "/api/lineitems", keyAuth(c.serviceKey));
    expect(a.status).toBe(500);
    expect(a.body).toMatchObject({ status: 500, error: "Internal Server Error" });
    emu.faults.serverErrors = { status: 502, remaining: 2 };
    const b = await call(emu, "POST", c.scores, keyAuth(c.serviceKey), score("s1"));
    expect(b.status).toBe(502);
    expect(b.body).toBeUndefined();
    expect(b.text).toContain("Bad Gateway");
    expect((await call(emu, "GET", "/api/lineitems", keyAuth(c.serviceKey))).status).toBe(502);
    expect((await call(emu, "GET", "/api/lineitems", keyAuth(c.serviceKey))).status).toBe(200);
    expect(emu.scores(c.lineItemId)).toEqual([]);
  });

  it("adds latency per platform and processes nothing for a client that gave up during a hang", async () => {
    const c = gradedCourse("p1");
    emu.faults.latencyMs = { p1: 60 };
    const t0 = performance.now();
    await call(emu, "GET", "/api/lineitems", keyAuth(c.serviceKey));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);

    emu.faults.latencyMs = undefined;
    // Longer than the test's own timeout: only the client's abort can end this hang.
    emu.faults.hangMs = 600_000;
    const a = await call(emu, "POST", c.scores, keyAuth(c.serviceKey), score("s1"), AbortSignal.timeout(50));
    expect(a.status).toBe(499);
    expect(emu.scores(c.lineItemId)).toEqual([]);
    expect(emu.log.at(-1)).toMatchObject({ method: "POST", status: 499 });
  });

  it("tracks the most requests in flight per platform", async () => {
    const a = gradedCourse("p1");
    const b = gradedCourse("p2");
    emu.faults.latencyMs = 40;
    await Promise.all([
      call(emu, "GET", "/api/lineitems", keyAuth(a.serviceKey)),
      call(emu, "GET", "/api/memberships", keyAuth(a.serviceKey)),
      call(emu, "POST", a.scores, keyAuth(a.serviceKey), score("s1")),
      call(emu, "GET", "/api/lineitems", keyAuth(b.serviceKey)),
    ]);
    await call(emu, "GET", "/api/lineitems", keyAuth(b.serviceKey));
    const stats = emu.stats();
    expect(stats.inFlightMaxByPlatform).toEqual({ p1: 3, p2: 1 });
    expect(stats.inFlightByPlatform).toEqual({ p1: 0, p2: 0 });
    expect(stats.requests).toBe(5);
  });

  it("reset() restores defaults in place and forgets everything", async () => {
    const c = gradedCourse();
    const faults = emu.faults;
    faults.notGradable.add("s1");
    faults.membershipPageSize = 2;
    faults.rateLimit = { style: "429", remaining: 5 };
    faults.timestampRefusal = { remaining: 1 };
    emu.setLmsFamily("p1", "moodle");
    emu.setThrottle("p1", { mode: "d2l", credits: 10, costPerCall: 10 });
    emu.setHandGrade(c.lineItemId, "s1", 5);
    await call(emu, "GET", "/api/lineitems", keyAuth(c.serviceKey));
    await call(emu, "GET", "/api/lineitems", keyAuth(c.serviceKey));
    expect(emu.stats().throttledByPlatform).toEqual({ p1: 2 });
    emu.reset();
    expect(emu.faults).toBe(faults);
    expect(faults).toMatchObject({ membershipPageSize: 50, rateLimit: undefined, moodleSameSecond: false, timestampRefusal: undefined });
    expect(faults.notGradable.size).toBe(0);
    expect(emu.log).toEqual([]);
    expect(emu.stats()).toEqual({ inFlightMaxByPlatform: {}, inFlightByPlatform: {}, throttledByPlatform: {}, requests: 0 });
    expect(emu.lmsFamily("p1")).toBe("generic");
    expect(emu.throttle("p1").settings).toEqual({ mode: "none" });
    expect(emu.gradebook(c.lineItemId)).toEqual([]);
    expect((await call(emu, "GET", "/api/lineitems", keyAuth(c.serviceKey))).status).toBe(401);
  });
});

describe("memberships", () => {
  function bigCourse() {
    const { serviceKey } = emu.createLaunch(launchInput());
    const learners = Array.from({ length: 149 }, (_, i) => ({
      userId: `s${i}`,
      roles: [LEARNER],
      name: `Student ${i}`,
      email: `s${i}@example.edu`,
      ...(i === 3 ? { status: "Inactive" as const } : {}),
    }));
    emu.setRoster("p1", "c1", learners);
    return serviceKey!;
  }

  it("pages 150 members in three pages of 50 (Canvas's cap) with next links", async () => {
    const key = bigCourse();
    const pages = [];
    let path: string | undefined = "/api/memberships?limit=100";
    while (path) {
      const a = await call(emu, "GET", path, keyAuth(key));
      expect(a.status).toBe(200);
      pages.push(a.body);
      path = a.body.next ? `/api/memberships?url=${enc(a.body.next)}` : undefined;
    }
    expect(pages.map((p) => p.members.length)).toEqual([50, 50, 50]);
    expect(pages[0]).toMatchObject({ id: expect.stringContaining("/api/lti/courses/c1/names_and_roles"), context: { id: "c1", label: "BIO", title: "Biology" } });
    const all = pages.flatMap((p) => p.members);
    expect(new Set(all.map((m: { userId: string }) => m.userId)).size).toBe(150);
    // setRoster kept the teacher who launched; status is passed through, absent means Active.
    expect(all.find((m: { userId: string }) => m.userId === "teacher-1")).toMatchObject({ roles: [INSTRUCTOR], name: "Ada Teacher" });
    expect(all.find((m: { userId: string }) => m.userId === "s3").status).toBe("Inactive");
    expect(all.find((m: { userId: string }) => m.userId === "s4")).not.toHaveProperty("status");
  });

  it("filters by role, honours a smaller limit, withholds PII and fails a chosen page", async () => {
    const key = bigCourse();
    const learners = await call(emu, "GET", "/api/memberships?role=Learner&limit=100", keyAuth(key));
    expect(learners.body.members).toHaveLength(50);
    const second = await call(emu, "GET", `/api/memberships?url=${enc(learners.body.next)}`, keyAuth(key));
    const third = await call(emu, "GET", `/api/memberships?url=${enc(second.body.next)}`, keyAuth(key));
    expect(third.body.members).toHaveLength(49);
    expect(third.body).not.toHaveProperty("next");
    const teachers = await call(emu, "GET", `/api/memberships?role=${enc(INSTRUCTOR)}`, keyAuth(key));
    expect(teachers.body.members.map((m: { userId: string }) => m.userId)).toEqual(["teacher-1"]);

    expect((await call(emu, "GET", "/api/memberships?limit=20", keyAuth(key))).body.members).toHaveLength(20);

    emu.faults.withholdPii = true;
    const anon = await call(emu, "GET", "/api/memberships?limit=2", keyAuth(key));
    expect(anon.body.members[0]).toEqual({ userId: "s0", roles: [LEARNER] });

    emu.faults.failMembershipsOnPage = 2;
    const one = await call(emu, "GET", "/api/memberships", keyAuth(key));
    expect(one.status).toBe(200);
    expect((await call(emu, "GET", `/api/memberships?url=${enc(one.body.next)}`, keyAuth(key))).status).toBe(502);
  });
});
