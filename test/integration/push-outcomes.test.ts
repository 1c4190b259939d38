/** Every row of the outcome table, driven by the emulator's faults, through the inline runner. */
import { beforeEach, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { recordScores } from "@/lib/grades/record";
import { MAX_ATTEMPTS } from "@/lib/grades/push";
import { createLtiaasClient } from "@/lib/ltiaas";
import { LtiaasError } from "@/lib/ltiaas/errors";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { TEST_KEYS } from "../support/env";
import { counters, gradeRow, scoresFor, seedTriple, useGradeEnv } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
const g = useGradeEnv(emu);

beforeEach(async () => {
  await truncateAll(t.db);
});

const scorePosts = () => emu.emulator.log.filter((l) => l.method === "POST" && l.path.includes("/scores"));

async function attempts(rowId: number) {
  return ((await t.db.execute(
    sql`SELECT outcome, http_status, error_code FROM sync_attempts WHERE grade_row_id = ${rowId} ORDER BY id`,
  )) as unknown as { rows: { outcome: string; http_status: number | null; error_code: string | null }[] }).rows;
}

describe("outcomes", () => {
  it("429 + Retry-After: retried after the delay, the whole platform waits, everything sent", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "o1", resourceLinkId: "r1", withLineItem: true });
    await recordScores(scoresFor(s, 4), { source: "webhook" });
    emu.emulator.faults.rateLimit = { style: "429", retryAfterSeconds: 1, remaining: 1, method: "POST" };
    const run = await g.run("push-grades");
    expect(run).toMatchObject({ outcome: "completed", counts: { sent: 4, failed: 0, pending: 0 } });
    const posts = scorePosts();
    const limited = posts.findIndex((p) => p.status === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    // Apart from a request already on its way when the 429 came back (two in flight per platform:
    // at most one), nothing reached the platform before the Retry-After had passed (log times are
    // the emulator's arrival times). Counted, not timed: the emulator shares the event loop with the
    // engine, so the arrival of a request already sent can be logged well after the 429.
    const t429 = new Date(posts[limited].at).getTime();
    const gaps = posts.slice(limited + 1).map((p) => new Date(p.at).getTime() - t429);
    expect(gaps.filter((g) => g < 950).length).toBeLessThanOrEqual(1);
    expect(gaps.filter((g) => g >= 950).length).toBeGreaterThan(0);
    expect(emu.emulator.scores(s.lineItemId!)).toHaveLength(4);
  });

  it("429 with Retry-After: 0 (or a date already past) is still a pause, not a tight loop hammering the platform", async () => {
    g.configure({ push: { maxWaitMs: 300 } });
    const s = await seedTriple(t.db, emu.emulator, { contextId: "o1z", resourceLinkId: "r1z", withLineItem: true });
    await recordScores(scoresFor(s, 1), { source: "webhook" });
    emu.emulator.faults.rateLimit = { style: "429", retryAfterSeconds: 0, remaining: 50, method: "POST" };
    await g.push(s.contextRef);
    // One 429, then the row waits (at least a second) longer than this run is willing to: it ends, pending.
    expect(scorePosts().length).toBe(1);
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-1")).toMatchObject({ state: "pending", attempts: 0 });
    const { rows } = (await t.db.execute(
      sql`SELECT next_attempt_at > now() + interval '500 milliseconds' AS later FROM grade_rows`,
    )) as unknown as { rows: { later: boolean }[] };
    expect(rows[0].later).toBe(true);
  });

  it("a long Retry-After does not stall the run: requests queued for the platform give up and their rows wait, pending", { timeout: 20_000 }, async () => {
    emu.emulator.faults.latencyMs = 30;
    const seeded = [];
    for (const c of ["a", "b", "c", "d"]) seeded.push(await seedTriple(t.db, emu.emulator, { platformId: "slow", contextId: `ra-${c}`, resourceLinkId: "r", withLineItem: true }));
    await recordScores(seeded.flatMap((s) => scoresFor(s, 3)), { source: "webhook" });
    emu.emulator.faults.rateLimit = { style: "429", retryAfterSeconds: 3600, remaining: 1, method: "POST" };
    const run = await g.run("push-grades");
    expect(run.outcome).toBe("partial");
    expect(run.counts.sent + run.counts.pending).toBe(12);
    expect(run.counts.pending).toBeGreaterThan(0);
    // Nothing reached the platform after the 429 but what was already on its way when it came back.
    const posts = scorePosts();
    const t429 = new Date(posts.find((p) => p.status === 429)!.at).getTime();
    expect(posts.filter((p) => new Date(p.at).getTime() - t429 > 100)).toEqual([]);
  });

  it("Canvas 403 Rate Limit Exceeded: retried with backoff, not counted as an attempt", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "o2", resourceLinkId: "r2", withLineItem: true });
    await recordScores(scoresFor(s, 3), { source: "webhook" });
    emu.emulator.faults.rateLimit = { style: "canvas403", remaining: 2, method: "POST" };
    const run = await g.run("push-grades");
    expect(run.counts).toMatchObject({ sent: 3, failed: 0, pending: 0 });
    const row = await gradeRow(t.db, s.resourceLinkRef, "learner-1");
    expect(row.attempts).toBe(0);
    expect(scorePosts().filter((p) => p.status === 403).length).toBe(2);
  });

  it("5xx: retried with backoff and sent; the attempts are audited", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "o3", resourceLinkId: "r3", withLineItem: true });
    await recordScores(scoresFor(s, 1), { source: "webhook" });
    emu.emulator.faults.serverErrors = { status: 503, remaining: 2, method: "POST" };
    const run = await g.run("push-grades");
    expect(run.counts).toMatchObject({ sent: 1, failed: 0, pending: 0 });
    const row = await gradeRow(t.db, s.resourceLinkRef, "learner-1");
    expect(await attempts(row.id)).toEqual([
      { outcome: "retry_later", http_status: 503, error_code: "retry_later: HTTP 503" },
      { outcome: "retry_later", http_status: 503, error_code: "retry_later: HTTP 503" },
      { outcome: "sent", http_status: 204, error_code: null },
    ]);
  });

  it("5xx that never ends: failed after bounded attempts; retry-failed sends it once the LMS is back", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "o4", resourceLinkId: "r4", withLineItem: true });
    await recordScores(scoresFor(s, 1), { source: "webhook" });
    emu.emulator.faults.serverErrors = { status: 500, remaining: 1000, method: "POST" };
    const run = await g.run("push-grades");
    expect(run).toMatchObject({ outcome: "partial", counts: { sent: 0, failed: 1 } });
    const row = await gradeRow(t.db, s.resourceLinkRef, "learner-1");
    expect(row).toMatchObject({ state: "failed", attempts: MAX_ATTEMPTS });
    expect(row.reason).toMatch(/^max_attempts: retry_later/);
    expect(await counters(t.db, s.resourceLinkRef)).toMatchObject({ failed: 1, pending: 0 });
    emu.emulator.faults.serverErrors = undefined;
    const retry = await g.run("retry-failed");
    expect(retry).toMatchObject({ outcome: "completed", counts: { sent: 1, failed: 0, pending: 0 } });
    expect(emu.emulator.scores(s.lineItemId!)).toHaveLength(1);
  });

  it("a score recorded just as its row's last allowed attempt fails is a new revision: not marked failed with the old one", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "o4r", resourceLinkId: "r4r", withLineItem: true });
    await recordScores(scoresFor(s, 1, () => 4), { source: "webhook" });
    await t.db.execute(sql`UPDATE grade_rows SET attempts = ${MAX_ATTEMPTS - 1}::int`);
    emu.emulator.faults.serverErrors = { status: 500, remaining: 1, method: "POST" };
    const base = await g.deps();
    let injected = false;
    // The new score lands between reading the row's attempts and recording the failed one.
    const db = new Proxy(base.db, {
      get(target, key) {
        const value = Reflect.get(target, key);
        if (key !== "execute") return typeof value === "function" ? value.bind(target) : value;
        return async (q: { queryChunks?: unknown }) => {
          const out = await target.execute(q as never);
          if (!injected && JSON.stringify(q.queryChunks ?? "").includes("SELECT attempts FROM grade_rows")) {
            injected = true;
            await recordScores(scoresFor(s, 1, () => 9), { source: "webhook" });
          }
          return out;
        };
      },
    });
    await g.pushElsewhere(s.contextRef, { ...base, db });
    expect(injected).toBe(true);
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-1")).toMatchObject({ revision: 2, state: "sent", sent_revision: 2 });
    expect(emu.emulator.scores(s.lineItemId!).map((p) => p.scoreGiven)).toEqual([9]);
  });

  it("timeout: retried later, sent once the LMS answers in time", async () => {
    g.configure({ ltiaas: createLtiaasClient({ baseUrl: emu.url, apiKey: TEST_KEYS.apiKey, timeoutMs: 150 }) });
    const s = await seedTriple(t.db, emu.emulator, { contextId: "o5", resourceLinkId: "r5", withLineItem: true });
    await recordScores(scoresFor(s, 1), { source: "webhook" });
    // The first score post outlasts the client's timeout; the LMS answers the retry in time.
    Object.assign(emu.emulator.faults, { hangMs: 400, hangMethod: "POST", hangTimes: 1 });
    await g.push(s.contextRef);
    const row = await gradeRow(t.db, s.resourceLinkRef, "learner-1");
    expect(row.state).toBe("sent");
    const a = await attempts(row.id);
    expect(a[0]).toMatchObject({ outcome: "retry_later", http_status: null });
    expect(a.at(-1)).toMatchObject({ outcome: "sent" });
    expect(emu.emulator.scores(s.lineItemId!)).toHaveLength(1);
  });

  it("422 not gradable and Canvas max attempts: skipped with the reason, never retried", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "o6", resourceLinkId: "r6", withLineItem: true });
    emu.emulator.faults.notGradable.add("learner-2");
    emu.emulator.faults.maxAttempts.add("learner-3");
    await recordScores(scoresFor(s, 3), { source: "webhook" });
    const run = await g.run("push-grades");
    expect(run).toMatchObject({ outcome: "completed", counts: { sent: 1, skipped: 2, failed: 0, pending: 0 } });
    expect((await gradeRow(t.db, s.resourceLinkRef, "learner-2")).reason).toMatch(/^not_gradable: .*not a student/i);
    expect((await gradeRow(t.db, s.resourceLinkRef, "learner-3")).reason).toMatch(/maximum number of allowed attempts/i);
    const before = scorePosts().length;
    await g.run("push-grades");
    expect(scorePosts().length).toBe(before);
    expect(await counters(t.db, s.resourceLinkRef)).toMatchObject({ sent: 1, skipped: 2 });
  });

  it("401 on the serviceKey: that link stops, rows stay pending, the key needs a relaunch; other contexts go on", async () => {
    const a = await seedTriple(t.db, emu.emulator, { contextId: "o7", resourceLinkId: "r7", withLineItem: true });
    const b = await seedTriple(t.db, emu.emulator, { contextId: "o8", resourceLinkId: "r8", withLineItem: true });
    await recordScores([...scoresFor(a, 5), ...scoresFor(b, 2)], { source: "webhook" });
    emu.emulator.revokeServiceKey(a.serviceKey);
    const run = await g.run("push-grades");
    expect(run).toMatchObject({ outcome: "partial", counts: { sent: 2, failed: 0, pending: 5 } });
    expect(await counters(t.db, a.resourceLinkRef)).toMatchObject({ pending: 5, sent: 0 });
    const { rows } = (await t.db.execute(sql`SELECT state, state_reason FROM service_keys WHERE resource_link_ref = ${a.resourceLinkRef}::uuid`)) as unknown as {
      rows: { state: string; state_reason: string }[];
    };
    expect(rows[0].state).toBe("needs_relaunch");
    // At most the requests already in flight when the first 401 came back.
    expect(scorePosts().filter((p) => p.status === 401).length).toBeLessThanOrEqual(2);
    // The next push does not even try the stopped link.
    const before = scorePosts().length;
    await g.run("push-grades");
    expect(scorePosts().length).toBe(before);
    // A relaunch brings a fresh key: everything pending goes out.
    await seedTriple(t.db, emu.emulator, { contextId: "o7", resourceLinkId: "r7", lineItemId: a.lineItemId });
    const after = await g.run("push-grades");
    expect(after.counts).toMatchObject({ sent: 5, pending: 0 });
  });

  it("401 on a key the teacher replaced meanwhile (a relaunch during the push): the fresh key stays active", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "o7r", resourceLinkId: "r7r", withLineItem: true });
    await recordScores(scoresFor(s, 2), { source: "webhook" });
    emu.emulator.revokeServiceKey(s.serviceKey);
    let relaunched = false;
    g.configure({
      push: {
        hook: async (point) => {
          if (point !== "answered" || relaunched) return;
          relaunched = true;
          // The 401 is in hand; before it is acted on, a launch stores a fresh key.
          await seedTriple(t.db, emu.emulator, { contextId: "o7r", resourceLinkId: "r7r", lineItemId: s.lineItemId });
        },
      },
    });
    await g.push(s.contextRef);
    expect(relaunched).toBe(true);
    const { rows } = (await t.db.execute(sql`SELECT state FROM service_keys WHERE resource_link_ref = ${s.resourceLinkRef}::uuid`)) as unknown as {
      rows: { state: string }[];
    };
    expect(rows[0].state).toBe("active");
    const after = await g.run("push-grades");
    expect(after.counts).toMatchObject({ sent: 2, pending: 0 });
  });

  it("a serviceKey that cannot be opened (key dropped from ENCRYPTION_KEYS, row tampered) blocks only its link; the run goes on", async () => {
    const bad = await seedTriple(t.db, emu.emulator, { contextId: "o7s", resourceLinkId: "r7s", withLineItem: true });
    const good = await seedTriple(t.db, emu.emulator, { contextId: "o8s", resourceLinkId: "r8s", withLineItem: true });
    await recordScores([...scoresFor(bad, 2), ...scoresFor(good, 3)], { source: "webhook" });
    // The other link's sealed key copied onto this row: bound to another triple, it must not open.
    await t.db.execute(sql`UPDATE service_keys SET sealed = (SELECT sealed FROM service_keys WHERE resource_link_ref = ${good.resourceLinkRef}::uuid)
      WHERE resource_link_ref = ${bad.resourceLinkRef}::uuid`);
    const run = await g.run("push-grades");
    expect(run).toMatchObject({ outcome: "partial", counts: { sent: 3, failed: 0, pending: 2 } });
    expect(emu.emulator.scores(good.lineItemId!)).toHaveLength(3);
    expect(await counters(t.db, bad.resourceLinkRef)).toMatchObject({ pending: 2, sent: 0 });
    expect(emu.emulator.scores(bad.lineItemId!)).toHaveLength(0);
  });

  it("404 line item: looked up once more and used when found, never created; else missing with rows pending", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "o9", resourceLinkId: "r9", withLineItem: true });
    await recordScores(scoresFor(s, 2), { source: "webhook" });
    emu.emulator.deleteLineItem(s.lineItemId!);
    const other = emu.emulator.addLineItem(s.platformId, s.contextId, { label: "Again", scoreMaximum: 10, resourceLinkId: "r9" });
    await g.run("push-grades");
    expect(emu.emulator.scores(other)).toHaveLength(2);

    await recordScores(scoresFor(s, 2, () => 3), { source: "webhook" });
    emu.emulator.deleteLineItem(other);
    await new Promise((r) => setTimeout(r, 1000));
    const run = await g.run("push-grades");
    expect(run).toMatchObject({ outcome: "partial", counts: { pending: 2 } });
    expect(emu.emulator.lineItems(s.platformId, s.contextId)).toHaveLength(0);
    const { rows } = (await t.db.execute(sql`SELECT line_item_state FROM resource_links WHERE id = ${s.resourceLinkRef}::uuid`)) as unknown as {
      rows: { line_item_state: string }[];
    };
    expect(rows[0].line_item_state).toBe("missing");
    await g.run("push-grades");
    expect(emu.emulator.lineItems(s.platformId, s.contextId)).toHaveLength(0);
  });

  it("404, and the lookup that follows fails (LMS down): the run goes on, rows stay pending, the line item is not declared missing", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "o9b", resourceLinkId: "r9b", withLineItem: true });
    const other = await seedTriple(t.db, emu.emulator, { contextId: "o9c", resourceLinkId: "r9c", withLineItem: true });
    await recordScores([...scoresFor(s, 2), ...scoresFor(other, 2)], { source: "webhook" });
    emu.emulator.deleteLineItem(s.lineItemId!);
    const real = createLtiaasClient({ baseUrl: emu.url, apiKey: TEST_KEYS.apiKey });
    g.configure({
      ltiaas: { ...real, listLineItems: () => Promise.reject(new LtiaasError({ kind: "retry_later", operation: "listLineItems", status: 503 })) },
    });
    const run = await g.run("push-grades");
    expect(run).toMatchObject({ outcome: "partial", counts: { sent: 2, pending: 2 } });
    expect(await counters(t.db, s.resourceLinkRef)).toMatchObject({ pending: 2, sent: 0 });
    const { rows } = (await t.db.execute(sql`SELECT line_item_state FROM resource_links WHERE id = ${s.resourceLinkRef}::uuid`)) as unknown as {
      rows: { line_item_state: string }[];
    };
    expect(rows[0].line_item_state).not.toBe("missing");
  });

  it("two updates for one user are at least a second apart (Moodle refuses same-second updates)", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "o10", resourceLinkId: "r10", withLineItem: true, productFamilyCode: "moodle" });
    emu.emulator.faults.moodleSameSecond = true;
    await recordScores(scoresFor(s, 1, () => 5), { source: "webhook" });
    await g.push(s.contextRef);
    await recordScores(scoresFor(s, 1, () => 6), { source: "webhook" });
    await g.push(s.contextRef);
    const posts = emu.emulator.scores(s.lineItemId!);
    expect(posts.map((p) => p.scoreGiven)).toEqual([5, 6]);
    expect(new Date(posts[1].timestamp).getTime() - new Date(posts[0].timestamp).getTime()).toBeGreaterThanOrEqual(1000);
    expect(scorePosts().every((p) => p.status === 204)).toBe(true);
  });

  it("never Pending after a grade: the row is skipped (would_clear_grade) and nothing is sent", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "o11", resourceLinkId: "r11", withLineItem: true });
    await recordScores(scoresFor(s, 1, () => 7), { source: "webhook" });
    await g.push(s.contextRef);
    await recordScores(scoresFor(s, 1, () => 7, { gradingProgress: "Pending", activityProgress: "Submitted" }), { source: "webhook" });
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-1")).toMatchObject({ state: "skipped", reason: "would_clear_grade", revision: 2 });
    const before = scorePosts().length;
    await g.run("push-grades");
    expect(scorePosts().length).toBe(before);
    expect(emu.emulator.scores(s.lineItemId!).map((p) => p.gradingProgress)).toEqual(["FullyGraded"]);
  });

  it("PLATFORM_CONCURRENCY bounds requests in flight per platform across contexts; platforms run in parallel", async () => {
    emu.emulator.faults.latencyMs = 15;
    const seeded = [];
    for (const p of ["pa", "pb"]) for (const c of ["x", "y", "z"]) seeded.push(await seedTriple(t.db, emu.emulator, { platformId: p, contextId: `${p}-${c}`, resourceLinkId: "r", withLineItem: true }));
    await recordScores(seeded.flatMap((s) => scoresFor(s, 6)), { source: "webhook" });
    const run = await g.run("push-grades");
    expect(run.counts).toMatchObject({ sent: 36, pending: 0 });
    const stats = emu.emulator.stats().inFlightMaxByPlatform;
    expect(stats.pa).toBe(2);
    expect(stats.pb).toBe(2);
  });

  it("line item look-ups count against PLATFORM_CONCURRENCY too (many contexts of one platform resolving at once)", async () => {
    const seeded = [];
    for (const c of ["a", "b", "c", "d", "e", "f"]) {
      const s = await seedTriple(t.db, emu.emulator, { platformId: "pl", contextId: `li-${c}`, resourceLinkId: "r" });
      emu.emulator.addLineItem("pl", s.contextId, { label: "Theirs", scoreMaximum: 10, resourceLinkId: "r" });
      seeded.push(s);
    }
    await recordScores(seeded.flatMap((s) => scoresFor(s, 1)), { source: "webhook" });
    emu.emulator.faults.latencyMs = 40;
    const run = await g.run("push-grades");
    expect(run.counts).toMatchObject({ sent: 6, pending: 0 });
    expect(emu.emulator.stats().inFlightMaxByPlatform.pl).toBeLessThanOrEqual(2);
  });

  it("a long Retry-After on a line item look-up holds the platform without stalling the other look-ups behind it", { timeout: 20_000 }, async () => {
    const seeded = [];
    for (const c of ["a", "b", "c"]) {
      const s = await seedTriple(t.db, emu.emulator, { platformId: "pl2", contextId: `lh-${c}`, resourceLinkId: "r" });
      emu.emulator.addLineItem("pl2", s.contextId, { label: "Theirs", scoreMaximum: 10, resourceLinkId: "r" });
      seeded.push(s);
    }
    await recordScores(seeded.flatMap((s) => scoresFor(s, 1)), { source: "webhook" });
    emu.emulator.faults.latencyMs = 20;
    emu.emulator.faults.rateLimit = { style: "429", retryAfterSeconds: 3600, remaining: 1, method: "POST" };
    const run = await g.run("push-grades");
    expect(run.outcome).toBe("partial");
    expect(run.counts.sent + run.counts.pending).toBe(3);
    expect(run.counts.pending).toBeGreaterThan(0);
  });
});
