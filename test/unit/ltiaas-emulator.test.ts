/** The client's outcome mapping end to end, against the bundled emulator on a local port. */
import { inspect } from "node:util";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createLtiaasClient, LtiaasError, type AnswerMeta, type LtiaasAuth, type LtiaasClient } from "@/lib/ltiaas";
import { TEST_KEYS } from "../support/env";
import { useEmulator } from "../support/emulator";

const emu = useEmulator({ resetEach: true });
const LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner";
const INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
// Spelled out: what a launch leaves out is not sent.
const AT = { platformId: "platform-1", contextId: "course-1", resourceLinkId: "link-1" };

function client(timeoutMs?: number): LtiaasClient {
  return createLtiaasClient({ baseUrl: emu.url, apiKey: TEST_KEYS.apiKey, timeoutMs });
}

/** A teacher's launch (its service key), learners u1..un in the course, and one line item. */
async function course(learners = 3) {
  const launch = emu.emulator.createLaunch({ ...AT, user: { id: "t1", name: "Teacher" }, roles: [INSTRUCTOR] });
  emu.emulator.setRoster(
    "platform-1",
    "course-1",
    Array.from({ length: learners }, (_, i) => ({ userId: `u${i + 1}`, roles: [LEARNER] })),
  );
  const auth: LtiaasAuth = { serviceKey: launch.serviceKey! };
  const c = client();
  const item = await c.createLineItem(auth, { label: "Lab 3", scoreMaximum: 10, resourceLinkId: "link-1", tag: "gradesync" });
  return { c, auth, launch, item };
}

async function failure(p: Promise<unknown>): Promise<LtiaasError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(LtiaasError);
    return err as LtiaasError;
  }
  throw new Error("expected the call to fail");
}

const graded = (userId: string, scoreGiven: number) =>
  ({ userId, activityProgress: "Completed", gradingProgress: "FullyGraded", scoreGiven, scoreMaximum: 10, comment: "c" }) as const;

afterEach(() => {
  vi.useRealTimers();
});

describe("id token", () => {
  it("parses a launch, with either spelling of documentTarget", async () => {
    for (const spelling of ["documentTarget", "document_target"] as const) {
      const { ltik } = emu.emulator.createLaunch({
        ...AT,
        user: { id: "u1", name: "Ada", email: "ada@example.com" },
        roles: [LEARNER],
        documentTargetSpelling: spelling,
        lineItemId: "https://lms/line/1",
      });
      const t = await client().getIdToken(ltik);
      expect(t.user).toMatchObject({ id: "u1", name: "Ada", email: "ada@example.com", roles: [LEARNER] });
      expect(t.platform.id).toBe("platform-1");
      expect(t.launch).toMatchObject({ type: "LtiResourceLinkRequest", context: { id: "course-1" }, resourceLink: { id: "link-1" } });
      expect(t.launch.presentation?.documentTarget).toBe("iframe");
      expect(t.services.assignmentAndGrades).toMatchObject({ available: true, lineItemId: "https://lms/line/1" });
      expect(t.services.serviceKey).toEqual(expect.any(String));
    }
  });

  it("tolerates withheld PII", async () => {
    emu.emulator.faults.withholdPii = true;
    const { ltik } = emu.emulator.createLaunch({ ...AT, user: { id: "u1", name: "Ada", email: "a@x" }, roles: [LEARNER] });
    const t = await client().getIdToken(ltik);
    expect(t.user.id).toBe("u1");
    expect(t.user.name).toBeUndefined();
    expect(t.user.email).toBeUndefined();
  });

  it("refuses an expired ltik with LTIAAS's code", async () => {
    const { ltik } = emu.emulator.createLaunch({ ...AT, user: { id: "u1" }, roles: [LEARNER] });
    emu.emulator.expireLtik(ltik);
    const err = await failure(client().getIdToken(ltik));
    expect(err).toMatchObject({ kind: "refused", status: 401, code: "INVALID_LTIK_AUTH_AUTHORIZATION_HEADER", fromLms: false });
  });

  it("refuses an inactive platform", async () => {
    const { ltik } = emu.emulator.createLaunch({ ...AT, user: { id: "u1" }, roles: [LEARNER] });
    emu.emulator.faults.inactivePlatforms.add("platform-1");
    const err = await failure(client().getIdToken(ltik));
    expect(err).toMatchObject({ kind: "refused", status: 400, code: "UNREGISTERED_OR_INACTIVE_PLATFORM" });
  });

  it("refuses a wrong API key", async () => {
    const { ltik } = emu.emulator.createLaunch({ ...AT, user: { id: "u1" }, roles: [LEARNER] });
    const c = createLtiaasClient({ baseUrl: emu.url, apiKey: "not-the-key" });
    expect((await failure(c.getIdToken(ltik))).kind).toBe("refused");
  });
});

describe("line items", () => {
  it("creates, reads by its URL id, and lists every page", async () => {
    const { c, auth, item } = await course();
    expect(item).toMatchObject({ label: "Lab 3", scoreMaximum: 10, resourceLinkId: "link-1", tag: "gradesync" });
    expect(item.id).toMatch(/^https?:\/\//);
    await expect(c.getLineItem(auth, item.id)).resolves.toMatchObject({ id: item.id, label: "Lab 3" });

    for (let i = 0; i < 4; i++) emu.emulator.addLineItem("platform-1", "course-1", { label: `Other ${i}`, scoreMaximum: 5, resourceLinkId: "link-2" });
    emu.emulator.faults.lineItemPageSize = 2;
    const all = await c.listLineItems(auth);
    expect(all).toHaveLength(5);
    expect(new Set(all.map((i) => i.id)).size).toBe(5);
    const first = await c.listLineItemsPage(auth);
    expect(first.lineItems).toHaveLength(2);
    expect(first.next).toEqual(expect.any(String));

    const mine = await c.listLineItems(auth, { resourceLinkId: "link-1" });
    expect(mine.map((i) => i.id)).toEqual([item.id]);
  });

  it("answers not_found for a deleted line item", async () => {
    const { c, auth, item } = await course();
    emu.emulator.deleteLineItem(item.id);
    expect((await failure(c.getLineItem(auth, item.id))).kind).toBe("not_found");
    expect((await failure(c.postScore(auth, item.id, graded("u1", 5)))).kind).toBe("not_found");
  });
});

describe("scores", () => {
  it("sends a score of 0 and reads it back", async () => {
    const { c, auth, item } = await course();
    await c.postScore(auth, item.id, graded("u1", 0));
    expect(emu.emulator.scores(item.id)).toEqual([expect.objectContaining({ userId: "u1", scoreGiven: 0, scoreMaximum: 10, auth: "serviceKey" })]);
    const results = await c.listScores(auth, item.id, { userId: "u1" });
    expect(results).toEqual([expect.objectContaining({ userId: "u1", resultScore: 0, resultMaximum: 10, comment: "c" })]);
  });

  it("follows result pages", async () => {
    const { c, auth, item } = await course(5);
    for (let i = 1; i <= 5; i++) await c.postScore(auth, item.id, graded(`u${i}`, i));
    emu.emulator.faults.lineItemPageSize = 2;
    const results = await c.listScores(auth, item.id);
    expect(results.map((r) => r.userId).sort()).toEqual(["u1", "u2", "u3", "u4", "u5"]);
  });

  it("reads results a page at a time, following next, or one user's", async () => {
    const { c, auth, item } = await course(5);
    for (let i = 1; i <= 5; i++) await c.postScore(auth, item.id, graded(`u${i}`, i));
    const pages = [await c.listResultsPage(auth, item.id, { limit: 2 })];
    while (pages.at(-1)!.next) pages.push(await c.listResultsPage(auth, item.id, { url: pages.at(-1)!.next! }));
    expect(pages.map((p) => p.results.length)).toEqual([2, 2, 1]);
    expect(pages.flatMap((p) => p.results.map((r) => r.userId)).sort()).toEqual(["u1", "u2", "u3", "u4", "u5"]);
    const one = await c.listResultsPage(auth, item.id, { userId: "u3" });
    expect(one).toEqual({ results: [expect.objectContaining({ userId: "u3", scoreOf: item.id, resultScore: 3, resultMaximum: 10 })] });
    expect(await c.listResultsPage(auth, item.id, { userId: "nobody" })).toEqual({ results: [] });
  });

  it("sends a score with submission times and Canvas's extension, which the LMS takes", async () => {
    const { c, auth, item } = await course();
    await c.postScore(auth, item.id, {
      ...graded("u1", 4),
      submission: { startedAt: "2026-11-20T08:00:00Z", submittedAt: "2026-11-20T09:00:00Z" },
      "https://canvas.instructure.com/lti/submission": { prioritize_non_tool_grade: true, new_submission: true, submitted_at: "2026-11-20T09:00:00Z" },
    });
    expect(await c.listScores(auth, item.id, { userId: "u1" })).toEqual([expect.objectContaining({ userId: "u1", resultScore: 4 })]);
  });

  it("reports each answer's status and latency, and Canvas's rate header on its throttle", async () => {
    const { c, auth, item } = await course();
    const seen: AnswerMeta[] = [];
    const onAnswer = (a: AnswerMeta) => seen.push(a);
    emu.emulator.faults.rateLimit = { style: "canvas403", remaining: 1 };
    const err = await failure(c.postScore(auth, item.id, graded("u1", 5), { onAnswer }));
    expect(err).toMatchObject({ kind: "retry_later", status: 403, retryAfterSeconds: undefined, rateLimit: { remaining: 0 } });
    await c.postScore(auth, item.id, graded("u1", 5), { onAnswer });
    await c.listResultsPage(auth, item.id, {}, { onAnswer });
    expect(seen).toEqual([
      { status: 403, latencyMs: expect.any(Number), rateLimit: { remaining: 0 } },
      { status: 204, latencyMs: expect.any(Number) },
      { status: 200, latencyMs: expect.any(Number) },
    ]);
  });

  it("maps a user who is not a student to not_gradable, with the LMS's reason", async () => {
    const { c, auth, item } = await course();
    const err = await failure(c.postScore(auth, item.id, graded("stranger", 5)));
    expect(err).toMatchObject({ kind: "not_gradable", status: 422, reason: "User not found in course or is not a student" });
    emu.emulator.faults.notGradable.add("u1");
    expect((await failure(c.postScore(auth, item.id, graded("u1", 5)))).kind).toBe("not_gradable");
  });

  it("maps maximum attempts to not_gradable with that reason", async () => {
    const { c, auth, item } = await course();
    emu.emulator.faults.maxAttempts.add("u2");
    const err = await failure(c.postScore(auth, item.id, graded("u2", 5)));
    expect(err.kind).toBe("not_gradable");
    expect(err.reason).toMatch(/maximum number of allowed attempts/);
  });

  it("maps Moodle's same-second refusal to conflict, and a second later it goes through", async () => {
    const { c, auth, item } = await course();
    emu.emulator.faults.moodleSameSecond = true;
    // Freeze the wall clock (emulator and test share the process) so both posts land in one second.
    vi.useFakeTimers({ toFake: ["Date"], now: Math.floor(Date.now() / 1000) * 1000 + 100 });
    await c.postScore(auth, item.id, graded("u1", 5));
    const err = await failure(c.postScore(auth, item.id, graded("u1", 6)));
    expect(err).toMatchObject({ kind: "conflict", status: 409 });
    expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    vi.setSystemTime(Date.now() + 1000);
    await c.postScore(auth, item.id, graded("u1", 6));
    expect(emu.emulator.scores(item.id).map((s) => s.scoreGiven)).toEqual([5, 6]);
  });
});

describe("throttling, outages and timeouts", () => {
  it("maps 429 to retry_later with Retry-After", async () => {
    const { c, auth, item } = await course();
    emu.emulator.faults.rateLimit = { style: "429", retryAfterSeconds: 7, remaining: 1 };
    const err = await failure(c.postScore(auth, item.id, graded("u1", 5)));
    expect(err).toMatchObject({ kind: "retry_later", status: 429, retryAfterSeconds: 7 });
    await c.postScore(auth, item.id, graded("u1", 5));
  });

  it("maps Canvas's 403 Rate Limit Exceeded to retry_later", async () => {
    const { c, auth, item } = await course();
    emu.emulator.faults.rateLimit = { style: "canvas403", remaining: 1 };
    const err = await failure(c.postScore(auth, item.id, graded("u1", 5)));
    expect(err).toMatchObject({ kind: "retry_later", status: 403 });
  });

  it.each([
    [500, false],
    [502, true],
    [503, true],
  ] as const)("maps %i to retry_later (from the LMS side: %s)", async (status, fromLms) => {
    const { c, auth, item } = await course();
    emu.emulator.faults.serverErrors = { status, remaining: 1 };
    const err = await failure(c.postScore(auth, item.id, graded("u1", 5)));
    expect(err).toMatchObject({ kind: "retry_later", status, fromLms });
  });

  it("gives up on a hanging LMS, and the LMS records nothing", async () => {
    const { auth, item } = await course();
    emu.emulator.faults.hangMs = 2_000;
    const err = await failure(client(100).postScore(auth, item.id, graded("u1", 5)));
    expect(err).toMatchObject({ kind: "retry_later", reason: "timed out after 100 ms" });
    emu.emulator.faults.hangMs = undefined;
    expect(emu.emulator.scores(item.id)).toEqual([]);
  });
});

describe("what the LMS's throttles tell the client", () => {
  it("Canvas's bucket: the remaining units and cost of every answer, then a 403 throttle without Retry-After", async () => {
    const { c, auth, item } = await course();
    emu.emulator.setThrottle("platform-1", { mode: "canvas", highWaterMark: 10, upFrontCost: 5, requestCost: 3, outflowPerSecond: 0 });
    const seen: AnswerMeta[] = [];
    const onAnswer = (a: AnswerMeta) => seen.push(a);
    await c.postScore(auth, item.id, graded("u1", 5), { onAnswer });
    await c.listResultsPage(auth, item.id, {}, { onAnswer });
    const err = await failure(c.postScore(auth, item.id, graded("u2", 5), { onAnswer }));
    expect(err).toMatchObject({ kind: "retry_later", status: 403, retryAfterSeconds: undefined, rateLimit: { remaining: 0 } });
    expect(seen).toEqual([
      { status: 204, latencyMs: expect.any(Number), rateLimit: { remaining: 7, cost: 3 } },
      { status: 200, latencyMs: expect.any(Number), rateLimit: { remaining: 4, cost: 3 } },
      { status: 403, latencyMs: expect.any(Number), rateLimit: { remaining: 0 } },
    ]);
  });

  it("D2L's credits: remaining, reset and cost, then a 429 with Retry-After", async () => {
    const { c, auth, item } = await course();
    emu.emulator.setThrottle("platform-1", { mode: "d2l", credits: 20, costPerCall: 10, windowSeconds: 60 });
    const seen: AnswerMeta[] = [];
    const onAnswer = (a: AnswerMeta) => seen.push(a);
    await c.postScore(auth, item.id, graded("u1", 5), { onAnswer });
    await c.listMembershipsPage(auth, {}, { onAnswer });
    const err = await failure(c.postScore(auth, item.id, graded("u2", 5), { onAnswer }));
    expect(err).toMatchObject({ kind: "retry_later", status: 429, rateLimit: { remaining: 0 } });
    expect(err.retryAfterSeconds).toBeGreaterThan(50);
    expect(err.rateLimit?.resetSeconds).toBe(err.retryAfterSeconds);
    expect(seen.map((a) => [a.status, a.rateLimit?.remaining, a.rateLimit?.cost])).toEqual([
      [204, 10, 10],
      [200, 0, 10],
      [429, 0, undefined],
    ]);
    expect(seen[0].rateLimit?.resetSeconds).toBeGreaterThan(50);
  });

  it("without the headers relayed, the statuses alone still classify, and no rateLimit is made up", async () => {
    const { c, auth, item } = await course();
    emu.emulator.setThrottle("platform-1", { mode: "canvas", highWaterMark: 10, upFrontCost: 5, requestCost: 3, outflowPerSecond: 0, relayHeaders: false });
    const seen: AnswerMeta[] = [];
    const onAnswer = (a: AnswerMeta) => seen.push(a);
    await c.postScore(auth, item.id, graded("u1", 5), { onAnswer });
    await c.postScore(auth, item.id, graded("u2", 5), { onAnswer });
    const err = await failure(c.postScore(auth, item.id, graded("u3", 5), { onAnswer }));
    expect(err).toMatchObject({ kind: "retry_later", status: 403 });
    expect(err.rateLimit).toBeUndefined();
    expect(seen.map((a) => [a.status, "rateLimit" in a])).toEqual([
      [204, false],
      [204, false],
      [403, false],
    ]);
  });
});

describe("service keys", () => {
  it("maps a revoked service key to needs_relaunch, and never shows the key", async () => {
    const { c, auth, item, launch } = await course();
    emu.emulator.revokeServiceKey(launch.serviceKey!);
    const err = await failure(c.postScore(auth, item.id, graded("u1", 5)));
    expect(err).toMatchObject({ kind: "needs_relaunch", status: 401, fromLms: false });
    expect(err.code).toMatch(/^INVALID_SERVICE_KEY/);
    for (const s of [err.message, err.stack ?? "", JSON.stringify(err), inspect(err)]) {
      expect(s).not.toContain(launch.serviceKey!);
      expect(s).not.toContain(TEST_KEYS.apiKey);
    }
    expect((await failure(c.listMembershipsPage(auth))).kind).toBe("needs_relaunch");
  });

  it("works with the ltik too", async () => {
    const { item } = await course();
    const learner = emu.emulator.createLaunch({ ...AT, user: { id: "u1" }, roles: [LEARNER] });
    await client().postScore({ ltik: learner.ltik }, item.id, graded("u1", 9));
    expect(emu.emulator.scores(item.id)).toEqual([expect.objectContaining({ userId: "u1", scoreGiven: 9, auth: "ltik" })]);
  });
});

describe("memberships", () => {
  it("follows every page and defaults status to Active", async () => {
    const { c, auth } = await course(0);
    emu.emulator.setRoster("platform-1", "course-1", [
      ...Array.from({ length: 118 }, (_, i) => ({ userId: `s${i}`, roles: [LEARNER] })),
      { userId: "gone", roles: [LEARNER], status: "Inactive" as const },
    ]);
    emu.emulator.faults.membershipPageSize = 50;
    const pages = [];
    let page = await c.listMembershipsPage(auth);
    pages.push(page);
    while (page.next) {
      page = await c.listMembershipsPage(auth, { url: page.next });
      pages.push(page);
    }
    expect(pages.map((p) => p.members.length)).toEqual([50, 50, 20]);
    const members = pages.flatMap((p) => p.members);
    expect(new Set(members.map((m) => m.userId)).size).toBe(120);
    expect(members.find((m) => m.userId === "s0")?.status).toBe("Active");
    expect(members.find((m) => m.userId === "gone")?.status).toBe("Inactive");
    expect(pages[0].context?.id).toBe("course-1");
  });

  it("filters by role and maps a failing page to retry_later", async () => {
    const { c, auth } = await course(60);
    const learners = await c.listMembershipsPage(auth, { role: LEARNER, limit: 100 });
    expect(learners.members.every((m) => m.roles.some((r) => r.endsWith("#Learner")))).toBe(true);
    emu.emulator.faults.membershipPageSize = 50;
    emu.emulator.faults.failMembershipsOnPage = 2;
    const first = await c.listMembershipsPage(auth);
    const err = await failure(c.listMembershipsPage(auth, { url: first.next! }));
    expect(err).toMatchObject({ kind: "retry_later", status: 502, fromLms: true });
  });
});
