import { beforeEach, describe, expect, it, vi } from "vitest";
import { sql } from "drizzle-orm";
import type { Db } from "@/lib/db/client";
import type { Member } from "@/lib/emulator/types";
import { memberKind } from "@/lib/links/member";
import { recordLaunch } from "@/lib/launch/record";
import { ltiaas } from "@/lib/ltiaas";
import { recordScores } from "@/lib/grades/record";
import { explainNotGradable, rosterView } from "@/lib/roster";
import { seal } from "@/lib/crypto/seal";
import { rosterDepsOf } from "@/lib/jobs/definitions/roster-context";
import { dispatcher } from "@/lib/jobs/dispatch";
import { refreshRosterSoon } from "@/lib/jobs/requests";
import { refreshContext } from "@/lib/roster/refresh";
import { listRosterTargets } from "@/lib/roster/targets";
import { onPostgres, truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { scoresFor, seedTriple, useGradeEnv, type Seeded } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
const g = useGradeEnv(emu);

beforeEach(async () => {
  await truncateAll(t.db);
  // (Every test also gets a fresh platform gate: a test's platform hold must not reach the next test.)
  g.configure({ roster: { backoffBaseMs: 5, maxWaitMs: 2_000 } });
});

const rosterDeps = async () => rosterDepsOf(await g.deps());

const TA = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant";
const TEST_USER = "http://purl.imsglobal.org/vocab/lti/system/person#TestUser";

/** 120 members: 1 teacher, 9 TAs, 100 learners (5 Inactive, 4 Deleted, 1 test user), 5 mentors, 5 others. */
function mixedRoster(): Member[] {
  const members: Member[] = [{ userId: "teacher-1", roles: ["Instructor"], name: "Teacher One", email: "t1@example.edu" }];
  for (let i = 1; i <= 9; i++) members.push({ userId: `ta-${i}`, roles: [TA], givenName: "Assistant", familyName: `${i}` });
  for (let i = 1; i <= 100; i++)
    members.push({
      userId: `learner-${i}`,
      roles: i === 99 ? ["Learner", TEST_USER] : ["Learner"],
      status: i % 20 === 0 ? "Inactive" : i % 25 === 1 ? "Deleted" : undefined,
      name: `Learner ${i}`,
      email: `l${i}@example.edu`,
    });
  for (let i = 1; i <= 5; i++) members.push({ userId: `mentor-${i}`, roles: ["Mentor"] });
  for (let i = 1; i <= 5; i++) members.push({ userId: `member-${i}`, roles: ["http://purl.imsglobal.org/vocab/lis/v2/membership#Member"] });
  return members;
}

type Rows<T> = { rows: T[] };
const q = async <T>(db: Db, query: ReturnType<typeof sql>) => ((await db.execute(query)) as unknown as Rows<T>).rows;

async function contextRow(s: Seeded) {
  const [r] = await q<{ roster_refreshed_at: Date | string | null; roster_members: number; roster_active_learners: number }>(
    t.db,
    sql`SELECT roster_refreshed_at, roster_members, roster_active_learners FROM contexts WHERE id = ${s.contextRef}::uuid`,
  );
  return r;
}

async function memberships(s: Seeded) {
  return q<{ user_id: string; kind: string; status: string; roles: string[]; test_user: boolean; name: string | null; email: string | null }>(
    t.db,
    sql`SELECT u.user_id, m.kind, m.status, m.roles, m.test_user, u.name, u.email FROM memberships m JOIN users u ON u.id = m.user_ref
        WHERE m.context_ref = ${s.contextRef}::uuid ORDER BY u.user_id`,
  );
}

async function runCounts(runId: string) {
  const [r] = await q<{ counts: Record<string, number> | string; outcome: string }>(t.db, sql`SELECT counts, outcome FROM sync_runs WHERE id = ${runId}::uuid`);
  // Zero counts are not stored (addRunCounts skips them).
  const counts = (typeof r.counts === "string" ? JSON.parse(r.counts) : r.counts) as Record<string, number>;
  return { outcome: r.outcome, counts: { refreshed: 0, skipped: 0, failed: 0, ...counts } };
}

const membershipRequests = () => emu.emulator.log.filter((e) => e.path.startsWith("/api/memberships"));

async function seeded(contextId = "c1", resourceLinkId = "rl1", roster: Member[] = mixedRoster()) {
  const s = await seedTriple(t.db, emu.emulator, { contextId, resourceLinkId });
  emu.emulator.setRoster(s.platformId, contextId, roster);
  return s;
}

async function launchAs(s: Seeded, userId: string, roles: string[], at: Date) {
  return recordLaunch(
    t.db,
    {
      platform: { id: s.platformId },
      context: { id: s.contextId },
      resourceLink: { id: s.resourceLinkId },
      user: { id: userId },
      roles,
      kind: roles.includes("Instructor") ? "teacher" : "learner",
      testUser: false,
    },
    at,
  );
}

describe("roster refresh: a complete refresh", () => {
  it("pages through 120 members (3 pages of at most 50), stores roles, statuses and PII, and counts the roster", async () => {
    const s = await seeded();
    const run = await g.run("refresh-rosters");
    expect(run.outcome).toBe("completed");
    expect((await runCounts(run.runId)).counts).toMatchObject({ refreshed: 1, failed: 0, members: 120 });

    const pages = membershipRequests();
    expect(pages).toHaveLength(3);
    expect(pages.every((p) => p.auth === "serviceKey" && p.status === 200)).toBe(true);
    expect(pages.slice(1).every((p) => p.path.includes("url="))).toBe(true);

    const c = await contextRow(s);
    expect(c.roster_refreshed_at).not.toBeNull();
    // 100 learners less 5 Inactive and 4 Deleted; the test student is a learner too.
    expect(c).toMatchObject({ roster_members: 120, roster_active_learners: 91 });

    const byUser = new Map((await memberships(s)).map((m) => [m.user_id, m]));
    expect(byUser.size).toBe(120);
    expect(byUser.get("teacher-1")).toMatchObject({ kind: "teacher", status: "Active", name: "Teacher One", email: "t1@example.edu" });
    expect(byUser.get("ta-3")).toMatchObject({ kind: "teacher", name: "Assistant 3" });
    expect(byUser.get("learner-20")).toMatchObject({ kind: "learner", status: "Inactive" });
    expect(byUser.get("learner-26")).toMatchObject({ kind: "learner", status: "Deleted" });
    expect(byUser.get("learner-99")).toMatchObject({ kind: "learner", test_user: true });
    expect(byUser.get("mentor-2")).toMatchObject({ kind: "mentor" });
    expect(byUser.get("member-2")).toMatchObject({ kind: "other" });
    expect(byUser.get("learner-5")!.roles[0]).toMatch(/membership#Learner$/);
  });

  it("does not refresh a fresh roster again, and --context forces one", async () => {
    const s = await seeded();
    await g.run("refresh-rosters");
    const before = membershipRequests().length;
    const again = await g.run("refresh-rosters");
    expect((await runCounts(again.runId)).counts).toMatchObject({ refreshed: 0 });
    expect(membershipRequests().length).toBe(before);

    // The /api/status id (a resource link) names the context.
    const forced = await g.run("refresh-rosters", { contextRefs: [s.resourceLinkRef] }, "cli");
    expect((await runCounts(forced.runId)).counts).toMatchObject({ refreshed: 1 });
    expect(membershipRequests().length).toBe(before + 3);
  });

  it("--context takes context or resource link ids; an id naming nothing (or not a UUID) is reported not_found", async () => {
    const s = await seeded();
    const unknown = "00000000-0000-4000-8000-000000000000";
    const list = await listRosterTargets(t.db, { maxAgeHours: 12, only: [s.contextRef, s.resourceLinkRef, unknown, "nope"] });
    expect(list.due.map((d) => d.contextRef)).toEqual([s.contextRef]);
    expect(list.skipped).toEqual([
      { contextRef: unknown, reason: "not_found" },
      { contextRef: "nope", reason: "not_found" },
    ]);
  });

  it("stores a member whose name or email carries a NUL character (Postgres text cannot hold one)", async () => {
    const s = await seeded("c1", "rl1", [...mixedRoster().slice(0, 5), { userId: "odd-1", roles: ["Learner"], name: "Ada\u0000Lovelace", email: "ada\u0000@example.edu" }]);
    const run = await g.run("refresh-rosters");
    expect((await runCounts(run.runId)).counts).toMatchObject({ refreshed: 1, failed: 0 });
    expect((await memberships(s)).find((m) => m.user_id === "odd-1")).toMatchObject({ name: "AdaLovelace", email: "ada@example.edu" });
  });

  // Postgres refuses a lone surrogate in jsonb (the batch travels as one jsonb parameter): before,
  // one such name failed that course's roster at every refresh, for good.
  it("never lets one member the database cannot store block a roster: text is cleaned, an unstorable id left out", async () => {
    const odd: Member[] = [
      { userId: "odd-name", roles: ["Learner", "Learner\ud800"], name: "bad \ud800 name", email: "x\udfffy@example.edu", givenName: "\ud83d" },
      { userId: "odd-parts", roles: ["Learner"], givenName: "Grace\ud800", familyName: "Hopper" },
      { userId: "x".repeat(256), roles: ["Learner"], name: "Too long an id" },
      { userId: "\u4e00".repeat(1024), roles: ["Learner"], name: "An id over the index's limit" },
      { userId: "id-\udc00", roles: ["Learner"], name: "A lone surrogate in the id" },
    ];
    const s = await seeded("c1", "rl1", [...mixedRoster().slice(0, 5), ...odd]);
    for (let i = 0; i < 2; i++) {
      const run = await g.run("refresh-rosters", { contextRefs: [s.contextRef] }, "test");
      expect(run.outcome).toBe("completed");
      expect((await runCounts(run.runId)).counts).toMatchObject({ refreshed: 1, failed: 0, dropped: 3, members: 7 });
    }
    const rows = await memberships(s);
    expect(rows.map((r) => r.user_id).sort()).toEqual([...mixedRoster().slice(0, 5).map((m) => m.userId), "odd-name", "odd-parts"].sort());
    expect(rows.find((m) => m.user_id === "odd-name")).toMatchObject({ name: "bad \ufffd name", email: "x\ufffdy@example.edu", roles: expect.arrayContaining(["Learner\ufffd"]), kind: "learner" });
    expect(rows.find((m) => m.user_id === "odd-parts")?.name).toBe("Grace\ufffd Hopper");
  });

  it("keeps names it knew when the LMS withholds PII", async () => {
    const s = await seeded();
    await g.run("refresh-rosters");
    emu.emulator.faults.withholdPii = true;
    await g.run("refresh-rosters", { contextRefs: [s.contextRef] }, "test");
    const m = (await memberships(s)).find((r) => r.user_id === "learner-7")!;
    expect(m).toMatchObject({ name: "Learner 7", email: "l7@example.edu" });
  });
});

describe("roster refresh: Inactive marking", () => {
  it("marks members missing from a complete refresh Inactive without deleting them, a launcher not on the roster too", async () => {
    const s = await seeded();
    // Launched an hour ago, never on the LMS's roster.
    await launchAs(s, "guest-1", ["Learner"], new Date(Date.now() - 3_600_000));
    await g.run("refresh-rosters");
    await recordScores(scoresFor(s, 3), { source: "webhook" });

    const dropped = new Set(Array.from({ length: 10 }, (_, i) => `learner-${i + 2}`));
    emu.emulator.setRoster(s.platformId, s.contextId, mixedRoster().filter((m) => !dropped.has(m.userId)));
    const run = await g.run("refresh-rosters", { contextRefs: [s.resourceLinkRef] }, "test");
    expect((await runCounts(run.runId)).counts).toMatchObject({ refreshed: 1, inactivated: 10 });

    const rows = await memberships(s);
    expect(rows).toHaveLength(121);
    for (const id of dropped) expect(rows.find((r) => r.user_id === id)).toMatchObject({ status: "Inactive", kind: "learner" });
    expect(rows.find((r) => r.user_id === "guest-1")).toMatchObject({ status: "Inactive" });
    expect(rows.find((r) => r.user_id === "learner-12")).toMatchObject({ status: "Active" });
    expect(await contextRow(s)).toMatchObject({ roster_members: 121, roster_active_learners: 81 });
    // Grade history stays.
    const [{ n }] = await q<{ n: number }>(t.db, sql`SELECT count(*)::int AS n FROM grade_rows WHERE user_id IN ('learner-2', 'learner-3')`);
    expect(n).toBe(2);

    // Back on the roster: Active again.
    emu.emulator.setRoster(s.platformId, s.contextId, mixedRoster());
    await g.run("refresh-rosters", { contextRefs: [s.contextRef] }, "test");
    expect((await memberships(s)).find((r) => r.user_id === "learner-2")).toMatchObject({ status: "Active" });
  });

  it("does not clobber a launch recorded while the roster was being fetched", async () => {
    const s = await seeded();
    emu.emulator.setRoster(s.platformId, s.contextId, mixedRoster().filter((m) => m.userId !== "learner-3"));
    const real = ltiaas();
    let launched = false;
    g.configure({
      ltiaas: {
        ...real,
        async listMembershipsPage(auth, query) {
          const page = await real.listMembershipsPage(auth, query);
          if (!launched && query && "url" in query) {
            launched = true;
            // Newer evidence than the roster being read: a new teacher, and learner-3 now teaching.
            await launchAs(s, "new-teacher", ["Instructor"], new Date());
            await launchAs(s, "learner-3", ["Instructor"], new Date());
          }
          return page;
        },
      },
    });
    await g.run("refresh-rosters");
    expect(launched).toBe(true);
    const rows = await memberships(s);
    expect(rows.find((r) => r.user_id === "new-teacher")).toMatchObject({ status: "Active", kind: "teacher" });
    expect(rows.find((r) => r.user_id === "learner-3")).toMatchObject({ status: "Active", kind: "teacher" });
  });
});

describe("roster refresh: failures leave the previous roster", () => {
  it("a page 2 that keeps failing changes nothing; the next good refresh swaps in", async () => {
    const s = await seeded();
    await g.run("refresh-rosters");
    const before = { rows: await memberships(s), context: await contextRow(s) };

    const changed = mixedRoster()
      .slice(0, 80)
      .map((m) => (m.userId === "teacher-1" ? { ...m, roles: ["Learner"] } : m));
    emu.emulator.setRoster(s.platformId, s.contextId, changed);
    emu.emulator.faults.failMembershipsOnPage = 2;
    emu.emulator.log.length = 0;
    const run = await g.run("refresh-rosters", { contextRefs: [s.contextRef] }, "test");
    expect(run.outcome).toBe("partial");
    expect((await runCounts(run.runId)).counts).toMatchObject({ refreshed: 0, failed: 1, failed_retry_later: 1 });
    // Page 1 once, page 2 tried the bounded number of times.
    expect(membershipRequests().filter((e) => e.status === 502)).toHaveLength(4);
    expect(await memberships(s)).toEqual(before.rows);
    expect(await contextRow(s)).toEqual(before.context);

    emu.emulator.faults.failMembershipsOnPage = undefined;
    const ok = await g.run("refresh-rosters", { contextRefs: [s.contextRef] }, "test");
    expect(ok.outcome).toBe("completed");
    expect(await contextRow(s)).toMatchObject({ roster_members: 120 });
    expect((await memberships(s)).find((r) => r.user_id === "teacher-1")).toMatchObject({ kind: "learner" });
    expect((await memberships(s)).filter((r) => r.status === "Inactive").length).toBeGreaterThan(before.rows.filter((r) => r.status === "Inactive").length);
  });

  it("retries 5xx and 429 (Retry-After holds the platform) and then completes", async () => {
    const s = await seeded();
    emu.emulator.faults.serverErrors = { status: 503, remaining: 2 };
    const run = await g.run("refresh-rosters");
    expect((await runCounts(run.runId)).counts).toMatchObject({ refreshed: 1, retried: 2 });

    emu.emulator.faults.rateLimit = { style: "429", retryAfterSeconds: 1, remaining: 1 };
    const t0 = Date.now();
    const again = await g.run("refresh-rosters", { contextRefs: [s.contextRef] }, "test");
    expect((await runCounts(again.runId)).counts).toMatchObject({ refreshed: 1, retried: 1 });
    expect(g.overrides.gate!.heldUntil(s.platformId)).toBeGreaterThanOrEqual(t0 + 1_000);
    expect(await contextRow(s)).toMatchObject({ roster_members: 120 });
  });

  it("a platform held longer than a refresh may wait is retried later without a request or a stall", async () => {
    const s = await seeded();
    await g.run("refresh-rosters");
    const before = await memberships(s);
    // A score post was told to wait an hour: the roster refresh must not sit out that hour.
    g.overrides.gate!.hold(s.platformId, Date.now() + 3_600_000);
    const requests = emu.emulator.log.length;
    const run = await g.run("refresh-rosters", { contextRefs: [s.contextRef] }, "test");
    expect(run.outcome).toBe("partial");
    expect((await runCounts(run.runId)).counts).toMatchObject({ failed: 1, failed_retry_later: 1 });
    expect(emu.emulator.log.length).toBe(requests);
    expect(await memberships(s)).toEqual(before);
  });

  it("a 401 on a key a relaunch replaced meanwhile leaves the fresh key active", async () => {
    const s = await seeded();
    emu.emulator.revokeServiceKey(s.serviceKey);
    emu.emulator.faults.latencyMs = 1_000;
    const running = g.run("refresh-rosters", { contextRefs: [s.contextRef] }, "test");
    // While the refused request is out, the teacher relaunches and a fresh key is stored.
    await new Promise((r) => setTimeout(r, 100));
    const { serviceKey } = emu.emulator.createLaunch({ platformId: s.platformId, contextId: s.contextId, resourceLinkId: s.resourceLinkId, user: { id: "teacher-1" }, roles: ["Instructor"] });
    const resealed = await seal(serviceKey!, { platformId: s.platformId, contextId: s.contextId, resourceLinkId: s.resourceLinkId });
    await t.db.execute(sql`UPDATE service_keys SET sealed = ${resealed.sealed} WHERE resource_link_ref = ${s.resourceLinkRef}::uuid`);
    await running;
    emu.emulator.faults.latencyMs = 0;
    const [key] = await q<{ state: string }>(t.db, sql`SELECT state FROM service_keys WHERE resource_link_ref = ${s.resourceLinkRef}::uuid`);
    expect(key.state).toBe("active");
  });

  it("a 401 marks the key needs_relaunch like a push, keeps the roster, and the context is then skipped", async () => {
    const s = await seeded();
    await g.run("refresh-rosters");
    const before = await memberships(s);
    emu.emulator.revokeServiceKey(s.serviceKey);
    emu.emulator.setRoster(s.platformId, s.contextId, mixedRoster().slice(0, 10));
    const run = await g.run("refresh-rosters", { contextRefs: [s.contextRef] }, "test");
    expect(run.outcome).toBe("partial");
    expect((await runCounts(run.runId)).counts).toMatchObject({ failed: 1, failed_needs_relaunch: 1 });
    const [key] = await q<{ state: string; state_reason: string }>(t.db, sql`SELECT state, state_reason FROM service_keys WHERE resource_link_ref = ${s.resourceLinkRef}::uuid`);
    expect(key).toEqual({ state: "needs_relaunch", state_reason: "roster_401" });
    expect(await memberships(s)).toEqual(before);

    const next = await g.run("refresh-rosters", { contextRefs: [s.contextRef] }, "test");
    expect((await runCounts(next.runId)).counts).toMatchObject({ skipped: 1, skipped_needs_relaunch: 1, failed: 0 });
  });

  it("falls back to another resource link's key of the context when the newest one answers 401", async () => {
    const s1 = await seeded("c9", "rl-a");
    const s2 = await seedTriple(t.db, emu.emulator, { contextId: "c9", resourceLinkId: "rl-b" });
    emu.emulator.setRoster(s1.platformId, "c9", mixedRoster());
    emu.emulator.revokeServiceKey(s2.serviceKey);
    const run = await g.run("refresh-rosters");
    expect((await runCounts(run.runId)).counts).toMatchObject({ refreshed: 1, failed: 0 });
    const keys = await q<{ resource_link_ref: string; state: string }>(t.db, sql`SELECT resource_link_ref, state FROM service_keys`);
    expect(new Map(keys.map((k) => [k.resource_link_ref, k.state]))).toEqual(
      new Map([
        [s1.resourceLinkRef, "active"],
        [s2.resourceLinkRef, "needs_relaunch"],
      ]),
    );
    expect(await contextRow(s1)).toMatchObject({ roster_members: 120 });
  });

  it("one context's unexpected error fails that context, not the run's other contexts", async () => {
    const bad = await seeded("c-bad", "rl-bad");
    const good = await seeded("c-good", "rl-good");
    const real = ltiaas();
    g.configure({
      ltiaas: {
        ...real,
        async listMembershipsPage(auth, query) {
          if ("serviceKey" in auth && auth.serviceKey === bad.serviceKey) throw new TypeError("unexpected");
          return real.listMembershipsPage(auth, query);
        },
      },
    });
    const run = await g.run("refresh-rosters");
    expect(run.outcome).toBe("partial");
    expect((await runCounts(run.runId)).counts).toMatchObject({ refreshed: 1, failed: 1, failed_error: 1 });
    // The run says what went wrong (the error's name; never its message, which may quote an answer).
    const [r] = await q<{ error: string | null }>(t.db, sql`SELECT error FROM sync_runs WHERE id = ${run.runId}::uuid`);
    expect(r.error).toBe("1 context(s) gave up after their retries: TypeError");
    expect(await contextRow(good)).toMatchObject({ roster_members: 120 });
    expect((await contextRow(bad)).roster_refreshed_at).toBeNull();
  });

  it("skips a context whose key has no Names and Roles, with that reason", async () => {
    const s = await seeded();
    await t.db.execute(sql`UPDATE service_keys SET has_nrps = false WHERE resource_link_ref = ${s.resourceLinkRef}::uuid`);
    const run = await g.run("refresh-rosters");
    expect(run.outcome).toBe("completed");
    expect((await runCounts(run.runId)).counts).toMatchObject({ refreshed: 0, skipped: 1, skipped_no_nrps: 1 });
    expect(membershipRequests()).toHaveLength(0);
    expect((await contextRow(s)).roster_refreshed_at).toBeNull();
  });
});

describe("roster refresh: contexts without Names and Roles", () => {
  it("skips, rather than fails, a context whose key LTIAAS says has no Names and Roles", async () => {
    const s = await seeded();
    await g.run("refresh-rosters");
    const before = { rows: await memberships(s), context: await contextRow(s) };
    // The LMS dropped Names and Roles from this link: its fresh key is refused by the service.
    const { serviceKey } = emu.emulator.createLaunch({ platformId: s.platformId, contextId: s.contextId, resourceLinkId: s.resourceLinkId, user: { id: "teacher-1" }, roles: ["Instructor"], nrps: false });
    const sealed = await seal(serviceKey!, { platformId: s.platformId, contextId: s.contextId, resourceLinkId: s.resourceLinkId });
    await t.db.execute(sql`UPDATE service_keys SET sealed = ${sealed.sealed}, key_id = ${sealed.keyId} WHERE resource_link_ref = ${s.resourceLinkRef}::uuid`);
    emu.emulator.log.length = 0;
    const run = await g.run("refresh-rosters", { contextRefs: [s.contextRef] }, "test");
    expect(membershipRequests().map((e) => e.status)).toEqual([400]);
    expect(run.outcome).toBe("completed");
    expect((await runCounts(run.runId)).counts).toMatchObject({ refreshed: 0, skipped: 1, skipped_no_nrps: 1, failed: 0 });
    expect(await memberships(s)).toEqual(before.rows);
    expect(await contextRow(s)).toEqual(before.context);
  });

  it("names why a context listed as due has no usable key by the time it is refreshed", async () => {
    const s = await seeded();
    const deps = await rosterDeps();
    await t.db.execute(sql`UPDATE service_keys SET state = 'needs_relaunch' WHERE resource_link_ref = ${s.resourceLinkRef}::uuid`);
    expect(await refreshContext(deps, s.contextRef, { force: true })).toMatchObject({ outcome: "skipped", reason: "needs_relaunch" });
    await t.db.execute(sql`UPDATE service_keys SET state = 'active', has_nrps = false WHERE resource_link_ref = ${s.resourceLinkRef}::uuid`);
    expect(await refreshContext(deps, s.contextRef, { force: true })).toMatchObject({ outcome: "skipped", reason: "no_nrps" });
    await t.db.execute(sql`DELETE FROM service_keys WHERE resource_link_ref = ${s.resourceLinkRef}::uuid`);
    expect(await refreshContext(deps, s.contextRef, { force: true })).toMatchObject({ outcome: "skipped", reason: "no_key" });
  });
});

describe("roster refresh: concurrency (Postgres)", () => {
  it("two processes refreshing one context while its teachers launch converge on one row per member", async (ctx) => {
    if (!onPostgres()) ctx.skip();
    const s = await seeded();
    const deps = await rosterDeps();
    // Two refreshes without the in-process lock, as two servers would run them, and launches meanwhile.
    const [a, b] = await Promise.all([
      refreshContext(deps, s.contextRef, { force: true }),
      refreshContext(deps, s.contextRef, { force: true }),
      ...Array.from({ length: 12 }, (_, i) => launchAs(s, `ta-${(i % 9) + 1}`, ["Instructor"], new Date())),
    ]);
    expect([a.outcome, b.outcome]).toEqual(["refreshed", "refreshed"]);
    const rows = await memberships(s);
    expect(rows).toHaveLength(120);
    expect(new Set(rows.map((r) => r.user_id)).size).toBe(120);
    expect(rows.filter((r) => r.kind === "teacher")).toHaveLength(10);
    expect(await contextRow(s)).toMatchObject({ roster_members: 120, roster_active_learners: 91 });
  });
});

describe("roster refresh: what the pages see", () => {
  it("a teacher demoted (or removed) in the LMS loses the teacher page once a refresh sees it", async () => {
    const s = await seeded();
    const hour = new Date(Date.now() - 3_600_000);
    const t2 = await launchAs(s, "teacher-2", ["Instructor"], hour);
    const t3 = await launchAs(s, "teacher-3", ["Instructor"], hour);
    expect((await memberKind(t.db, s.contextRef, t2.userRef))?.kind).toBe("teacher");
    expect((await memberKind(t.db, s.contextRef, t3.userRef))?.kind).toBe("teacher");
    emu.emulator.setRoster(s.platformId, s.contextId, [...mixedRoster(), { userId: "teacher-2", roles: ["Learner"] }]);
    await g.run("refresh-rosters");
    expect((await memberKind(t.db, s.contextRef, t2.userRef))?.kind).toBe("learner");
    expect((await memberKind(t.db, s.contextRef, t3.userRef))?.kind).toBe("inactive");
  });

  it("an administrator who launched without a course role keeps the teacher page: no roster lists them", async () => {
    const s = await seeded();
    const hour = new Date(Date.now() - 3_600_000);
    const admin = await launchAs(s, "admin-1", ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"], hour);
    const sysadmin = await launchAs(s, "root-1", ["http://purl.imsglobal.org/vocab/lis/v2/system/person#SysAdmin"], hour);
    await t.db.execute(sql`UPDATE memberships SET kind = 'teacher' WHERE user_ref IN (${admin.userRef}::uuid, ${sysadmin.userRef}::uuid)`);
    const run = await g.run("refresh-rosters");
    const { counts } = await runCounts(run.runId);
    expect(counts.refreshed).toBe(1);
    expect((counts as Record<string, number>).inactivated ?? 0).toBe(0);
    expect((await memberKind(t.db, s.contextRef, admin.userRef))?.kind).toBe("teacher");
    expect((await memberKind(t.db, s.contextRef, sysadmin.userRef))?.kind).toBe("teacher");
  });

  it("rosterView and explainNotGradable put the roster's view in plain words", async () => {
    const s = await seeded();
    const never = await rosterView(t.db, s.contextRef);
    expect(never.refreshedAt).toBeNull();
    await g.run("refresh-rosters");
    const view = await rosterView(t.db, s.contextRef);
    expect(view.refreshedAt).toBeInstanceOf(Date);
    expect(view.size).toBe(120);
    expect(view.get("learner-5")).toEqual({ userId: "learner-5", name: "Learner 5", kind: "learner", status: "Active", testUser: false });
    expect(explainNotGradable(view.get("learner-20"))).toBe("left the course");
    expect(explainNotGradable(view.get("learner-26"))).toBe("left the course");
    expect(explainNotGradable(view.get("mentor-1"))).toBe("not a learner in this course");
    expect(explainNotGradable(view.get("teacher-1"))).toBe("not a learner in this course");
    expect(explainNotGradable(view.get("learner-99"))).toBe("a test user");
    expect(explainNotGradable(view.get("stranger"))).toBe("not on the roster");
    expect(explainNotGradable(view.get("learner-5"))).toBeNull();
  });
});

describe("roster refresh: the shared platform gate", () => {
  it("roster pages and score posts to one platform stay within PLATFORM_CONCURRENCY together", async () => {
    const contexts: Seeded[] = [];
    for (let i = 1; i <= 4; i++) contexts.push(await seeded(`g${i}`, `rl-g${i}`));
    const push = await seedTriple(t.db, emu.emulator, { contextId: "gp", resourceLinkId: "rl-gp", withLineItem: true });
    await recordScores(scoresFor(push, 20), { source: "webhook" });
    emu.emulator.faults.latencyMs = 15;
    const [rosters, grades] = await Promise.all([g.run("refresh-rosters"), g.run("push-grades")]);
    expect((await runCounts(rosters.runId)).counts).toMatchObject({ refreshed: 5 });
    expect(grades.counts.sent).toBe(20);
    // The bound was reached (so it was exercised) and never passed.
    expect(emu.emulator.stats().inFlightMaxByPlatform[push.platformId]).toBe(2);
    expect(g.overrides.gate!.maxInFlight(push.platformId)).toBe(2);
  });
});

describe("roster refresh: after a teacher's launch", () => {
  it("debounces requests for a stale roster into one refresh, and asks for none once it is fresh", async () => {
    const s = await seeded();
    const jobs = g.jobs({ soonDelayMs: { "roster-context": 30 } });
    expect(await refreshRosterSoon(s.contextRef, jobs)).toBe("scheduled");
    expect(await refreshRosterSoon(s.contextRef, jobs)).toBe("already_scheduled");
    expect(jobs.waiting("roster-context")).toEqual([s.contextRef]);
    for (let i = 0; i < 200; i++) {
      const [r] = await q<{ outcome: string }>(t.db, sql`SELECT outcome FROM sync_runs WHERE kind = 'refresh-rosters' AND trigger = 'debounce'`);
      if (r && r.outcome !== "running") break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const runs = await q<{ outcome: string; context_ref: string }>(t.db, sql`SELECT outcome, context_ref FROM sync_runs WHERE kind = 'refresh-rosters'`);
    expect(runs).toEqual([{ outcome: "completed", context_ref: s.contextRef }]);
    expect(membershipRequests()).toHaveLength(3);
    expect(await refreshRosterSoon(s.contextRef, jobs)).toBe("not_needed");
  });

  it("a teacher's launch asks for a refresh of its context, a learner's does not", async () => {
    const { GET } = await import("@/app/launch/route");
    const jobs = dispatcher();
    const open = (ltik: string) => GET(new Request(`http://localhost/launch?ltik=${encodeURIComponent(ltik)}`));
    try {
      const learner = emu.emulator.createLaunch({ contextId: "cl", resourceLinkId: "rl-l", user: { id: "s1" }, roles: ["Learner"] });
      expect((await open(learner.ltik)).status).toBe(303);
      await new Promise((r) => setTimeout(r, 100));
      expect(jobs.waiting("roster-context")).toEqual([]);
      const teacher = emu.emulator.createLaunch({ contextId: "cl", resourceLinkId: "rl-l", user: { id: "t1" }, roles: ["Instructor"] });
      expect((await open(teacher.ltik)).status).toBe(303);
      const [c] = await q<{ id: string }>(t.db, sql`SELECT id FROM contexts WHERE context_id = 'cl'`);
      await vi.waitFor(() => expect(jobs.waiting("roster-context")).toEqual([c.id]));
    } finally {
      jobs.cancelWaiting();
    }
  });
});
