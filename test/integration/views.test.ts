/**
 * The page-level queries behind the teacher's page, the learner's result and the operator's
 * dashboard: ordering, counts (from the trigger-kept counters), paging, reasons in words, a score's
 * story, and the teacher's Sync now being idempotent.
 */
import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import type { Db } from "@/lib/db/client";
import { getLink } from "@/lib/links/state";
import { requestRetryFailed, requestSync } from "@/lib/jobs/requests";
import { recordScores } from "@/lib/grades/record";
import { adminList, searchScores, throughput } from "@/lib/views/admin";
import { learnerResult, quizFor, readAnswers, scoreQuiz } from "@/lib/views/learner";
import { explain, runWords } from "@/lib/views/reasons";
import { contextRuns, contextRunsQuery, outcomeSeries, studentPage } from "@/lib/views/teacher";
import { rowsOf } from "@/lib/db/rows";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { scoresFor, seedTriple, useGradeEnv } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
useGradeEnv(emu);

beforeEach(async () => {
  await truncateAll(t.db);
});

type Rows<T> = { rows: T[] };
const one = async <T>(db: Db, q: ReturnType<typeof sql>) => ((await db.execute(q)) as unknown as Rows<T>).rows[0];

/** A platform, a course and links, without the emulator (views only read). */
async function course(db: Db, opts: { platformId?: string; contextId: string; links: string[] }) {
  const p = await one<{ id: string }>(db, sql`INSERT INTO platforms (platform_id, name) VALUES (${opts.platformId ?? "plat"}, 'Canvas')
    ON CONFLICT (platform_id) DO UPDATE SET updated_at = now() RETURNING id`);
  const c = await one<{ id: string }>(db, sql`INSERT INTO contexts (platform_ref, context_id, title) VALUES (${p.id}::uuid, ${opts.contextId}, ${"Course " + opts.contextId}) RETURNING id`);
  const links: string[] = [];
  for (const l of opts.links) {
    const rl = await one<{ id: string }>(db, sql`INSERT INTO resource_links (context_ref, resource_link_id, title) VALUES (${c.id}::uuid, ${l}, ${"Link " + l}) RETURNING id`);
    await db.execute(sql`INSERT INTO service_keys (resource_link_ref, sealed, key_id) VALUES (${rl.id}::uuid, 'x', 'k')`);
    links.push(rl.id);
  }
  return { platformRef: p.id, contextRef: c.id, links };
}

async function learner(db: Db, platformRef: string, contextRef: string, userId: string, name: string | null, extra: { status?: string; kind?: string; testUser?: boolean } = {}) {
  const u = await one<{ id: string }>(db, sql`INSERT INTO users (platform_ref, user_id, name) VALUES (${platformRef}::uuid, ${userId}, ${name})
    ON CONFLICT (platform_ref, user_id) DO UPDATE SET name = excluded.name RETURNING id`);
  await db.execute(sql`INSERT INTO memberships (context_ref, user_ref, kind, status, test_user)
    VALUES (${contextRef}::uuid, ${u.id}::uuid, ${extra.kind ?? "learner"}, ${extra.status ?? "Active"}, ${extra.testUser ?? false})`);
  return u.id;
}

async function row(db: Db, c: { platformRef: string; contextRef: string }, link: string, userId: string, state: string, extra: { reason?: string; pendingSince?: string; score?: number } = {}) {
  const r = await one<{ id: number }>(db, sql`INSERT INTO grade_rows (resource_link_ref, context_ref, platform_ref, user_id, score_given, score_maximum,
      activity_progress, grading_progress, graded_at, submitted_at, source, state, reason, pending_since)
    VALUES (${link}::uuid, ${c.contextRef}::uuid, ${c.platformRef}::uuid, ${userId}, ${extra.score ?? 7}, 10, 'Completed', 'FullyGraded', now(), now(), 'webhook',
      ${state}, ${extra.reason ?? null}, ${state === "pending" ? (extra.pendingSince ?? new Date().toISOString()) : null}::timestamptz) RETURNING id`);
  return Number(r.id);
}

describe("reasons in plain words", () => {
  it("maps each engine code to what happened and what to do", () => {
    expect(explain("skipped", "not_gradable: User not found in course or is not a student").words).toContain("does not see this person as a student");
    expect(explain("skipped", "not_gradable: maximum number of allowed attempts").action).toContain("Allow another attempt");
    expect(explain("failed", "max_attempts: retry_later: HTTP 503")).toMatchObject({ label: "Failed", tone: "bad" });
    expect(explain("failed", "max_attempts: retry_later: HTTP 503").action).toContain("Retry failed");
    expect(explain("pending", "needs_relaunch").action).toContain("Open this assignment once");
    expect(explain("pending", "needs_relaunch").words).toMatch(/^Waiting: your LMS stopped/);
    expect(explain("pending", "retry_later: HTTP 503").words).toContain("tries again by itself");
    expect(explain("skipped", "would_clear_grade").words).toContain("would have removed a grade");
    expect(explain("pending", "line_item_not_found").words).toContain("column");
    expect(explain("sent", "anything")).toMatchObject({ label: "In gradebook", tone: "ok" });
    expect(explain("none", null, { status: "Inactive" }).words).toContain("inactive");
    // Never the raw code on the page.
    for (const code of ["not_gradable: x", "max_attempts: y", "needs_relaunch", "retry_later: HTTP 500", "conflict: HTTP 409", "refused: HTTP 401"])
      expect(explain("pending", code).words).not.toMatch(/not_gradable|max_attempts|needs_relaunch|retry_later|_/);
  });
});

describe("the teacher's student table", () => {
  it("lists learners and scored users, those needing attention first, with names and the last attempt", async () => {
    const c = await course(t.db, { contextId: "bio", links: ["lab1"] });
    const link = c.links[0];
    await learner(t.db, c.platformRef, c.contextRef, "u-zed", "Zed Sent");
    await learner(t.db, c.platformRef, c.contextRef, "u-amy", "Amy Pending");
    await learner(t.db, c.platformRef, c.contextRef, "u-bob", "Bob Nothing");
    await learner(t.db, c.platformRef, c.contextRef, "u-teach", "Teacher", { kind: "teacher" });
    await learner(t.db, c.platformRef, c.contextRef, "u-gone", "Gone Student", { status: "Inactive" });
    const sent = await row(t.db, c, link, "u-zed", "sent");
    await row(t.db, c, link, "u-amy", "pending");
    await row(t.db, c, link, "u-fail", "failed", { reason: "max_attempts: retry_later: HTTP 503" });
    await row(t.db, c, link, "u-skip", "skipped", { reason: "not_gradable: User not found in course or is not a student" });
    await t.db.execute(sql`INSERT INTO sync_attempts (grade_row_id, revision, http_status, outcome, at) VALUES
      (${sent}, 1, 503, 'retry_later', now() - interval '2 minutes'), (${sent}, 1, 204, 'sent', now() - interval '1 minute')`);

    const page = await studentPage(t.db, { resourceLinkRef: link, contextRef: c.contextRef });
    expect(page.rows.map((r) => [r.userId, r.state])).toEqual([
      ["u-fail", "failed"],
      ["u-skip", "skipped"],
      ["u-amy", "pending"],
      ["u-zed", "sent"],
      ["u-bob", "none"],
      ["u-gone", "none"],
    ]);
    expect(page.total).toBe(6);
    // Teachers without a score are not students; the scored-but-unknown have no name yet.
    expect(page.rows.find((r) => r.userId === "u-teach")).toBeUndefined();
    expect(page.rows.find((r) => r.userId === "u-fail")!.name).toBeNull();
    const zed = page.rows.find((r) => r.userId === "u-zed")!;
    expect(zed).toMatchObject({ name: "Zed Sent", scoreGiven: 7, scoreMaximum: 10 });
    expect(zed.lastAttempt).toMatchObject({ outcome: "sent", httpStatus: 204 });
    expect(page.rows.find((r) => r.userId === "u-skip")!.explanation.action).toContain("enrolled as a student");
    expect(page.rows.find((r) => r.userId === "u-gone")!.explanation.words).toContain("inactive");

    // A teacher who took the quiz shows with their name.
    await row(t.db, c, link, "u-teach", "skipped", { reason: "not_gradable: User not found in course or is not a student" });
    const again = await studentPage(t.db, { resourceLinkRef: link, contextRef: c.contextRef });
    expect(again.rows.find((r) => r.userId === "u-teach")!.name).toBe("Teacher");
    // The class list explains a refusal: a teacher is not a student (nothing to check); someone unknown is not on a refreshed roster.
    expect(again.rows.find((r) => r.userId === "u-teach")!.explanation.words).toContain("The class list says this person is not a student in this course");
    expect(again.rows.find((r) => r.userId === "u-teach")!.explanation.action).not.toContain("enrolled");
    expect(again.rows.find((r) => r.userId === "u-skip")!.explanation.words).not.toContain("class list");
    const refreshed = await studentPage(t.db, { resourceLinkRef: link, contextRef: c.contextRef, rosterRefreshed: true });
    expect(refreshed.rows.find((r) => r.userId === "u-skip")!.explanation.words).toContain("not on the class list");

    // Counters, not a scan: the header counts come from grade_counters.
    const view = await getLink(t.db, link);
    expect(view!.counts).toMatchObject({ pending: 1, sent: 1, skipped: 2, failed: 1 });
    expect(view!.roster).toEqual({ refreshedAt: null, members: 0, activeLearners: 0 });
  });

  it("pages 1,000 learners 100 at a time, in a stable order, and clamps a page past the end", async () => {
    const c = await course(t.db, { contextId: "big", links: ["lab"] });
    const link = c.links[0];
    await t.db.execute(sql`WITH u AS (
        INSERT INTO users (platform_ref, user_id, name)
        SELECT ${c.platformRef}::uuid, 'u-' || lpad(i::text, 4, '0'), 'Learner ' || lpad(i::text, 4, '0') FROM generate_series(1, 1000) i RETURNING id)
      INSERT INTO memberships (context_ref, user_ref, kind) SELECT ${c.contextRef}::uuid, id, 'learner' FROM u`);
    await t.db.execute(sql`INSERT INTO grade_rows (resource_link_ref, context_ref, platform_ref, user_id, score_given, score_maximum,
        activity_progress, grading_progress, graded_at, submitted_at, source, state, pending_since)
      SELECT ${link}::uuid, ${c.contextRef}::uuid, ${c.platformRef}::uuid, 'u-' || lpad(i::text, 4, '0'), 5, 10, 'Completed', 'FullyGraded', now(), now(), 'webhook',
        CASE WHEN i % 10 = 0 THEN 'pending' ELSE 'sent' END, CASE WHEN i % 10 = 0 THEN now() END
      FROM generate_series(1, 600) i`);
    const first = await studentPage(t.db, { resourceLinkRef: link, contextRef: c.contextRef, page: 1 });
    expect(first).toMatchObject({ total: 1000, pages: 10, page: 1 });
    expect(first.rows).toHaveLength(100);
    // 60 pending first (by name), then sent, then those without a score.
    expect(first.rows.slice(0, 60).every((r) => r.state === "pending")).toBe(true);
    expect(first.rows[0].userId).toBe("u-0010");
    const seen = new Set<string>();
    for (let p = 1; p <= 10; p++) {
      const page = await studentPage(t.db, { resourceLinkRef: link, contextRef: c.contextRef, page: p });
      for (const r of page.rows) seen.add(r.userId);
    }
    expect(seen.size).toBe(1000);
    const last = await studentPage(t.db, { resourceLinkRef: link, contextRef: c.contextRef, page: 99 });
    expect(last.page).toBe(10);
    expect(last.rows.at(-1)!.state).toBe("none");
  });

  it("counts outcomes per day over 30 days, every day present", async () => {
    const c = await course(t.db, { contextId: "ch", links: ["l"] });
    const id = await row(t.db, c, c.links[0], "u1", "sent");
    await t.db.execute(sql`INSERT INTO sync_attempts (grade_row_id, revision, outcome, at) VALUES
      (${id}, 1, 'sent', '2026-11-20T10:00:00Z'), (${id}, 1, 'retry_later', '2026-11-20T09:00:00Z'),
      (${id}, 1, 'sent', '2026-11-27T01:00:00Z'), (${id}, 1, 'sent', '2026-10-01T00:00:00Z')`);
    const series = await outcomeSeries(t.db, { resourceLinkRef: c.links[0], now: new Date("2026-11-27T12:00:00Z") });
    expect(series).toHaveLength(30);
    expect(series[0].day).toBe("2026-10-29");
    expect(series.at(-1)).toMatchObject({ day: "2026-11-27", counts: { sent: 1 } });
    expect(series.find((d) => d.day === "2026-11-20")!.counts).toMatchObject({ sent: 1, retry_later: 1, failed: 0 });
    expect(series.reduce((s, d) => s + d.counts.sent, 0)).toBe(2);
  });
});

describe("the teacher's recent runs", () => {
  it("are read through an index, not a scan of every run (each debounced push adds one)", async () => {
    const c = await course(t.db, { contextId: "runs", links: ["l"] });
    const plan = await t.db.transaction(async (tx) => {
      // With sequential scans priced out, the plan shows one only where no index can serve.
      await tx.execute(sql`SET LOCAL enable_seqscan = off`);
      const q = contextRunsQuery({ contextRef: c.contextRef, resourceLinkRef: c.links[0] });
      return ((await tx.execute(sql`EXPLAIN ${q}`)) as unknown as { rows: { "QUERY PLAN": string }[] }).rows.map((r) => r["QUERY PLAN"]).join("\n");
    });
    expect(plan).not.toMatch(/Seq Scan on sync_runs/);
  });

  it("lists an operator's run over every course as the administrator's, its counts said to be every course's", async () => {
    const c = await course(t.db, { contextId: "runs-cli", links: ["l"] });
    await row(t.db, c, c.links[0], "u1", "sent");
    await t.db.execute(sql`INSERT INTO sync_runs (kind, trigger, context_ref, outcome, counts, started_at)
      VALUES ('push-grades', 'manual', ${c.contextRef}::uuid, 'completed', '{"sent": 1}'::jsonb, now() - interval '1 hour')`);
    const [cli] = await rowsOf<{ id: string }>(t.db, sql`INSERT INTO sync_runs (kind, trigger, context_ref, outcome, counts)
      VALUES ('push-grades', 'cli', NULL, 'completed', '{"sent": 40, "skipped": 2}'::jsonb) RETURNING id`);
    await t.db.execute(sql`UPDATE grade_counters SET last_run_id = ${cli.id}::uuid WHERE resource_link_ref = ${c.links[0]}::uuid`);
    const runs = await contextRuns(t.db, { contextRef: c.contextRef, resourceLinkRef: c.links[0] });
    expect(runs.map((r) => [r.trigger, r.wholeSchool])).toEqual([["cli", true], ["manual", false]]);
    const words = runs.map(runWords);
    expect(`${words[0].kind} (${words[0].trigger})`).toBe("Grade sync (started by your school's administrator)");
    expect(words[0].counts).toBe("40 sent, 2 not sent across all courses");
    expect(words[1].counts).toBe("1 sent");
  });
});

describe("the operator's list", () => {
  it("puts needs_relaunch first, then failing, then the oldest pending, and filters and pages", async () => {
    const a = await course(t.db, { platformId: "p1", contextId: "a", links: ["ok1", "relaunch", "failing", "pend-new", "pend-old", "missing"] });
    const [ok1, relaunch, failing, pendNew, pendOld, missing] = a.links;
    await t.db.execute(sql`UPDATE service_keys SET state = 'needs_relaunch' WHERE resource_link_ref = ${relaunch}::uuid`);
    await t.db.execute(sql`UPDATE resource_links SET line_item_state = 'missing' WHERE id = ${missing}::uuid`);
    await row(t.db, a, ok1, "u1", "sent");
    await row(t.db, a, failing, "u1", "failed", { reason: "max_attempts: x" });
    await row(t.db, a, pendNew, "u1", "pending", { pendingSince: "2026-11-27T10:00:00Z" });
    await row(t.db, a, pendOld, "u1", "pending", { pendingSince: "2026-11-20T10:00:00Z" });
    await row(t.db, a, relaunch, "u1", "pending", { pendingSince: "2026-11-26T10:00:00Z" });

    const list = await adminList(t.db);
    expect(list.entries.map((e) => [e.resourceLinkId, e.state])).toEqual([
      ["relaunch", "needs_relaunch"],
      ["failing", "failing"],
      ["missing", "failing"],
      ["pend-old", "pending"],
      ["pend-new", "pending"],
      ["ok1", "ok"],
    ]);
    expect(list.byState).toEqual({ needs_relaunch: 1, failing: 2, pending: 2, ok: 1 });
    expect(list.entries[0]).toMatchObject({ key: { state: "needs_relaunch" }, counts: { pending: 1 }, title: "Link relaunch" });

    const pending = await adminList(t.db, { state: "pending" });
    expect(pending.entries.map((e) => e.resourceLinkId)).toEqual(["pend-old", "pend-new"]);
    expect(pending.total).toBe(2);

    const p2 = await adminList(t.db, { page: 2, pageSize: 4 });
    expect(p2).toMatchObject({ page: 2, pages: 2, total: 6 });
    expect(p2.entries.map((e) => e.resourceLinkId)).toEqual(["pend-new", "ok1"]);
  });

  it("sums throughput per day from the runs", async () => {
    await t.db.execute(sql`INSERT INTO sync_runs (kind, trigger, outcome, started_at, counts) VALUES
      ('push-grades', 'cron', 'completed', '2026-11-26T02:00:00Z', '{"sent": 10, "failed": 1}'),
      ('push-grades', 'debounce', 'completed', '2026-11-26T12:00:00Z', '{"sent": 5, "skipped": 2}'),
      ('refresh-rosters', 'cron', 'completed', '2026-11-26T03:00:00Z', '{"sent": 99}')`);
    const days = await throughput(t.db, { days: 3, now: new Date("2026-11-27T08:00:00Z") });
    expect(days).toEqual([
      { day: "2026-11-25", sent: 0, skipped: 0, failed: 0, runs: 0 },
      { day: "2026-11-26", sent: 15, skipped: 2, failed: 1, runs: 2 },
      { day: "2026-11-27", sent: 0, skipped: 0, failed: 0, runs: 0 },
    ]);
  });
});

describe("a score's whole story, and the teacher's buttons, against the emulator", () => {
  it("finds by delivery id or user id: revisions, attempts with the LMS's answers, outcome", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "c1", resourceLinkId: "rl1", withLineItem: true, learners: 3 });
    await recordScores(scoresFor(s, 2), { source: "webhook", deliveryId: "delivery-1" });
    await recordScores(scoresFor(s, 1, () => 9), { source: "webhook", deliveryId: "delivery-2" });
    const sync = await requestSync(s.contextRef);
    expect(sync).toMatchObject({ status: "done", joined: false, summary: { counts: { sent: 2 } } });

    const byDelivery = await searchScores(t.db, "delivery-1");
    expect(byDelivery.matched).toBe("delivery");
    expect(byDelivery.delivery).toMatchObject({ id: "delivery-1", accepted: 2 });
    expect(byDelivery.stories.map((x) => x.row.userId)).toEqual(["learner-1", "learner-2"]);

    const byUser = await searchScores(t.db, "learner-1");
    expect(byUser.matched).toBe("user");
    const story = byUser.stories[0];
    expect(story.row).toMatchObject({ state: "sent", revision: 2, sentRevision: 2, scoreGiven: 9, resourceLinkId: "rl1" });
    expect(story.revisions.map((v) => [v.deliveryId, v.revision, v.scoreGiven])).toEqual([
      ["delivery-1", 1, 0],
      ["delivery-2", 2, 9],
    ]);
    expect(story.attempts).toHaveLength(1);
    expect(story.attempts[0]).toMatchObject({ revision: 2, outcome: "sent", httpStatus: 204 });

    expect((await searchScores(t.db, "nobody")).matched).toBe("none");

    // Delivery receipts are pruned after 35 days; the revisions that name the delivery still tell the story.
    await t.db.execute(sql`DELETE FROM webhook_deliveries WHERE id = 'delivery-1'`);
    const pruned = await searchScores(t.db, "delivery-1");
    expect(pruned).toMatchObject({ matched: "delivery", delivery: null });
    expect(pruned.stories.map((x) => x.row.userId)).toEqual(["learner-1", "learner-2"]);
  });

  it("Sync now twice at once starts one push; Retry failed re-queues failed rows", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "c2", resourceLinkId: "rl2", withLineItem: true, learners: 5 });
    await recordScores(scoresFor(s, 5), { source: "webhook" });
    const [a, b] = await Promise.all([requestSync(s.contextRef), requestSync(s.contextRef)]);
    expect(a.status === "done" && b.status === "done").toBe(true);
    if (a.status !== "done" || b.status !== "done") return;
    expect(a.summary.runId).toBe(b.summary.runId);
    expect([a.joined, b.joined].sort()).toEqual([false, true]);
    const runs = await one<{ n: number }>(t.db, sql`SELECT count(*)::int AS n FROM sync_runs WHERE context_ref = ${s.contextRef}::uuid`);
    expect(runs.n).toBe(1);
    expect(emu.emulator.scores(s.lineItemId!)).toHaveLength(5);

    // A push already marked running elsewhere (another process) is not doubled.
    await t.db.execute(sql`INSERT INTO sync_runs (kind, trigger, context_ref) VALUES ('push-grades', 'cron', ${s.contextRef}::uuid)`);
    expect((await requestSync(s.contextRef)).status).toBe("running_elsewhere");
    await t.db.execute(sql`UPDATE sync_runs SET outcome = 'completed', finished_at = now() WHERE outcome = 'running'`);

    await recordScores(scoresFor(s, 2, () => 3), { source: "webhook" });
    await t.db.execute(sql`UPDATE grade_rows SET state = 'failed', failed_at = now(), pending_since = NULL, reason = 'max_attempts: retry_later: HTTP 503'
      WHERE resource_link_ref = ${s.resourceLinkRef}::uuid AND state = 'pending'`);
    const retry = await requestRetryFailed(s.contextRef);
    expect(retry).toMatchObject({ status: "done", reset: 2, summary: { counts: { sent: 2 } } });
    expect(emu.emulator.scores(s.lineItemId!)).toHaveLength(7);
    const again = await requestRetryFailed(s.contextRef);
    expect(again).toMatchObject({ reset: 0, summary: { counts: { sent: 0 } } });
  });
});

describe("the learner's quiz and result", () => {
  it("scores on the server, refuses an incomplete form, and reads back when the score reached the LMS", async () => {
    const form = (v: Record<string, string>) => ({ get: (k: string) => v[k] ?? null });
    const quiz = quizFor({ resourceLinkId: "rl3", title: "Lab 1: Cells", course: { contextId: "c3", title: null }, platform: { platformId: "p" } });
    expect(readAnswers(quiz, form({ q1: "b", q2: "a" }))).toEqual({ missing: ["q3", "q4", "q5"] });
    expect(readAnswers(quiz, form({ q1: "b", q2: "a", q3: "c", q4: "a", q5: "z" }))).toEqual({ missing: ["q5"] });
    const all = Object.fromEntries(quiz.questions.map((q) => [q.id, q.answer]));
    const read = readAnswers(quiz, form(all));
    expect("answers" in read && scoreQuiz(quiz, read.answers)).toEqual({ correct: 5, total: 5 });
    const wrong = quiz.questions[4].choices.find((c) => c.id !== quiz.questions[4].answer)!.id;
    expect(scoreQuiz(quiz, { ...all, q5: wrong })).toEqual({ correct: 4, total: 5 });

    const s = await seedTriple(t.db, emu.emulator, { contextId: "c3", resourceLinkId: "rl3", withLineItem: true, learners: 2 });
    expect(await learnerResult(t.db, { resourceLinkRef: s.resourceLinkRef, userId: "learner-1" })).toBeNull();
    await recordScores([{ ...scoresFor(s, 1)[0], scoreGiven: 4, scoreMaximum: 5 }], { source: "activity" });
    const before = await learnerResult(t.db, { resourceLinkRef: s.resourceLinkRef, userId: "learner-1" });
    expect(before).toMatchObject({ state: "pending", scoreGiven: 4, scoreMaximum: 5, reachedLmsAt: null });
    await requestSync(s.contextRef);
    const after = await learnerResult(t.db, { resourceLinkRef: s.resourceLinkRef, userId: "learner-1" });
    expect(after!.state).toBe("sent");
    expect(after!.reachedLmsAt).toBeInstanceOf(Date);
  });
});
