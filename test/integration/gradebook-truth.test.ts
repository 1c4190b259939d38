/**
 * Gradebook truth against the emulator playing each LMS: submission times sent with every score (so
 * on-time work is not marked late), a grade a person set in the LMS kept (read before writing), the
 * explicit overwrites, timestamp refusals resolved by reading back, and what the reads cost.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { recordScores } from "@/lib/grades/record";
import { requestOverwrite } from "@/lib/jobs/requests";
import type { BackfillOutcome } from "@/lib/jobs/definitions/backfill";
import type { Db } from "@/lib/db/client";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { gradeRow, scoresFor, seedTriple, useGradeEnv, type Seeded } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
const g = useGradeEnv(emu);

beforeEach(async () => {
  await truncateAll(t.db);
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = async <T>(db: Db, query: ReturnType<typeof sql>) => ((await db.execute(query)) as unknown as { rows: T[] }).rows;
const posts = (s: Seeded, user?: string) => emu.emulator.scores(s.lineItemId!).filter((p) => !user || p.userId === user);
const cell = (s: Seeded, user: string) => emu.emulator.gradebook(s.lineItemId!).find((c) => c.userId === user);
const resultReads = () => emu.emulator.log.filter((l) => l.method === "GET" && /\/lineitems\/.+\/scores/.test(l.path));

describe("submission times", () => {
  it("work handed in before the due date and pushed after it is not late in Canvas; without a submission time it is", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "st1", resourceLinkId: "r", withLineItem: true, productFamilyCode: "canvas" });
    const due = new Date(Date.now() - 3_600_000);
    emu.emulator.setDueDate(s.lineItemId!, due.toISOString());
    const handedIn = new Date(due.getTime() - 600_000).toISOString();
    await recordScores(
      [
        { ...scoresFor(s, 1)[0], submittedAt: handedIn },
        // Graded (and so, without a submission time, taken as handed in) after the due date.
        { ...scoresFor(s, 2)[1] },
      ],
      { source: "webhook" },
    );
    await g.push(s.contextRef);
    expect(cell(s, "learner-1")).toMatchObject({ late: false, submittedAt: handedIn });
    expect(cell(s, "learner-2")).toMatchObject({ late: true });
    const [p] = posts(s, "learner-1");
    expect(p.submission).toEqual({ submittedAt: handedIn });
    expect(p.canvasSubmission).toEqual({ prioritize_non_tool_grade: true, new_submission: true, submitted_at: handedIn });
  });

  it("a re-send keeps the submission time and is not a new Canvas submission; a future time is clamped to now", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "st2", resourceLinkId: "r", withLineItem: true, productFamilyCode: "canvas" });
    const handedIn = new Date(Date.now() - 86_400_000).toISOString();
    await recordScores([{ ...scoresFor(s, 1)[0], submittedAt: handedIn }], { source: "webhook" });
    await g.push(s.contextRef);
    await pause(1_000);
    await g.run("backfill", { platformId: s.platformId, contextId: s.contextId });
    const [first, again] = posts(s, "learner-1");
    expect(again.submission?.submittedAt).toBe(handedIn);
    expect(again.canvasSubmission).toMatchObject({ new_submission: false, submitted_at: handedIn });
    expect(first.canvasSubmission).toMatchObject({ new_submission: true });
    expect(cell(s, "learner-1")?.attempts).toBe(1);

    // A grader whose clock runs a few minutes ahead (Canvas refuses a submitted_at over a minute ahead).
    const future = new Date(Date.now() + 240_000).toISOString();
    await recordScores([{ ...scoresFor(s, 2)[1], submittedAt: future }], { source: "webhook" });
    await g.push(s.contextRef);
    const sent = Date.parse(posts(s, "learner-2")[0].submission!.submittedAt!);
    expect(sent).toBeLessThanOrEqual(Date.now());
  });

  it("other LMSs get the AGS submission times but not Canvas's extension", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "st3", resourceLinkId: "r", withLineItem: true, productFamilyCode: "moodle" });
    await recordScores([{ ...scoresFor(s, 1)[0], submittedAt: "2026-11-01T10:00:00.000Z", startedAt: "2026-11-01T09:00:00.000Z" }], { source: "webhook" });
    await g.push(s.contextRef);
    const [p] = posts(s);
    expect(p.submission).toEqual({ submittedAt: "2026-11-01T10:00:00.000Z", startedAt: "2026-11-01T09:00:00.000Z" });
    expect(p.canvasSubmission).toBeUndefined();
  });
});

describe("a grade a person set in the LMS is kept", () => {
  it("a new revision and a backfill leave a hand-changed grade alone (overridden); Send Gradesync's score overwrites it once, audited", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "ov1", resourceLinkId: "r", withLineItem: true, productFamilyCode: "moodle" });
    await recordScores(scoresFor(s, 2, () => 5), { source: "webhook" });
    await g.push(s.contextRef);
    // The teacher regrades learner-1 in the LMS (the column's maximum is 10).
    emu.emulator.setHandGrade(s.lineItemId!, "learner-1", 9);
    await pause(1_000);
    await recordScores(scoresFor(s, 2, () => 6), { source: "webhook" });
    const run = await g.push(s.contextRef);
    expect(run.counts).toMatchObject({ sent: 1, overridden: 1 });
    expect(cell(s, "learner-1")).toMatchObject({ resultScore: 9, setBy: "person" });
    expect(cell(s, "learner-2")).toMatchObject({ resultScore: 6 });
    const row = await q<{ state: string; lms_score: number; lms_maximum: number; revision: number }>(
      t.db,
      sql`SELECT state, lms_score, lms_maximum, revision FROM grade_rows WHERE user_id = 'learner-1'`,
    );
    expect(row[0]).toMatchObject({ state: "overridden", lms_score: 9, lms_maximum: 10, revision: 2 });

    // A newer score keeps it overridden (shown waiting); a backfill without overwrite leaves it too.
    await recordScores([{ ...scoresFor(s, 1, () => 7)[0] }], { source: "webhook" });
    expect((await gradeRow(t.db, s.resourceLinkRef, "learner-1")).state).toBe("overridden");
    const backfill = await g.run("backfill", { platformId: s.platformId, contextId: s.contextId });
    expect(backfill.counts.sent).toBe(1);
    expect(posts(s, "learner-1").map((p) => p.scoreGiven)).toEqual([5]);

    // The teacher confirms what was shown: learner-1, the LMS holding 9 of 10.
    const before = emu.emulator.scores(s.lineItemId!).length;
    const stale = await requestOverwrite(s.resourceLinkRef, [{ userId: "learner-1", lmsScore: 8, lmsMaximum: 10 }], g.jobs());
    expect(stale).toMatchObject({ overwritten: 0, changed: ["learner-1"] });
    const done = await requestOverwrite(s.resourceLinkRef, [{ userId: "learner-1", lmsScore: 9, lmsMaximum: 10 }], g.jobs());
    expect(done).toMatchObject({ overwritten: 1, changed: [], push: { status: "done" } });
    expect(emu.emulator.scores(s.lineItemId!).length).toBe(before + 1);
    expect(cell(s, "learner-1")).toMatchObject({ resultScore: 7, setBy: "tool" });
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-1")).toMatchObject({ state: "sent" });
    const audit = await q<{ note: string; source: string }>(t.db, sql`SELECT v.note, v.source FROM grade_revisions v JOIN grade_rows g ON g.id = v.grade_row_id
      WHERE g.user_id = 'learner-1' AND v.source = 'overwrite'`);
    expect(audit).toEqual([{ note: "overwrite", source: "overwrite" }]);
    // Once: a second confirmation of the same screen overwrites nothing.
    expect(await requestOverwrite(s.resourceLinkRef, [{ userId: "learner-1", lmsScore: 9, lmsMaximum: 10 }], g.jobs())).toMatchObject({ overwritten: 0 });
  });

  it("on Canvas an overwrite is sent without prioritize_non_tool_grade; a backfill with overwrite sends over a hand grade, and its dry run counts it", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "ov2", resourceLinkId: "r", withLineItem: true, productFamilyCode: "canvas" });
    await recordScores(scoresFor(s, 2, () => 5), { source: "webhook" });
    await g.push(s.contextRef);
    emu.emulator.setHandGrade(s.lineItemId!, "learner-2", 3);
    await pause(1_000);
    const dry = await g.run("backfill", { platformId: s.platformId, dryRun: true });
    expect(dry).toMatchObject({ overridden: 1, backfill: { wouldSend: 1, overridden: 1 } });
    const dryOver = await g.run("backfill", { platformId: s.platformId, dryRun: true, overwrite: true });
    expect(dryOver).toMatchObject({ overridden: 1, backfill: { wouldSend: 2 } });
    // A dry run of corrections names the hand-changed row, and sends it only with overwrite.
    const corrections = [1, 2].map((n) => ({ platformId: s.platformId, contextId: "ov2", resourceLinkId: "r", userId: `learner-${n}`, scoreGiven: 6, scoreMaximum: 10 }));
    const dryFix = await g.run("backfill", { scores: corrections, dryRun: true });
    expect(dryFix.backfill).toMatchObject({ wouldSend: 1, overridden: 1 });
    expect((dryFix.backfill as BackfillOutcome).rows!.map((r) => [r.userId, r.state])).toEqual([["learner-1", "correction"], ["learner-2", "overridden"]]);
    expect((await g.run("backfill", { scores: corrections, dryRun: true, overwrite: true })).backfill).toMatchObject({ wouldSend: 2 });
    const run = await g.run("backfill", { platformId: s.platformId, overwrite: true });
    expect(run.counts.sent).toBe(2);
    const last = posts(s, "learner-2").at(-1)!;
    expect(last.canvasSubmission).toMatchObject({ new_submission: false });
    expect(last.canvasSubmission?.prioritize_non_tool_grade).toBeUndefined();
    expect(cell(s, "learner-2")).toMatchObject({ resultScore: 5, setBy: "tool" });
  });

  it("keeps a grade a teacher entered in Canvas before Gradesync's first send", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "ov3", resourceLinkId: "r", withLineItem: true, productFamilyCode: "canvas" });
    emu.emulator.setHandGrade(s.lineItemId!, "learner-1", 8);
    await recordScores(scoresFor(s, 1, () => 4), { source: "webhook" });
    await g.push(s.contextRef);
    expect(cell(s, "learner-1")).toMatchObject({ resultScore: 8, setBy: "person" });
  });

  it("a hand grade seen before the first send is overridden, not sent (an LMS that lists it)", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "ov4", resourceLinkId: "r", withLineItem: true, productFamilyCode: "moodle" });
    emu.emulator.setHandGrade(s.lineItemId!, "learner-1", 8);
    await recordScores(scoresFor(s, 2, () => 4), { source: "webhook" });
    const run = await g.push(s.contextRef);
    expect(run.counts).toMatchObject({ sent: 1, overridden: 1 });
    expect(posts(s, "learner-1")).toHaveLength(0);
  });
});

describe("timestamp refusals are resolved by reading back", () => {
  it("a Moodle 409 caused by our own previous update is retried, not overridden", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "ts1", resourceLinkId: "r", withLineItem: true, productFamilyCode: "moodle" });
    await recordScores(scoresFor(s, 1, () => 5), { source: "webhook" });
    await g.push(s.contextRef);
    await pause(1_000);
    await recordScores(scoresFor(s, 1, () => 6), { source: "webhook" });
    emu.emulator.faults.timestampRefusal = { remaining: 1, userId: "learner-1" };
    const run = await g.push(s.contextRef);
    expect(run.counts.sent).toBe(1);
    expect(run.counts.overridden).toBe(0);
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-1")).toMatchObject({ state: "sent", score_given: 6 });
    expect(cell(s, "learner-1")?.resultScore).toBe(6);
  });

  it("a refusal because a person wrote later leaves the row overridden", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "ts2", resourceLinkId: "r", withLineItem: true, productFamilyCode: "canvas" });
    await recordScores(scoresFor(s, 1, () => 5), { source: "webhook" });
    await g.push(s.contextRef);
    await pause(1_000);
    await recordScores(scoresFor(s, 1, () => 6), { source: "webhook" });
    // Between our read and our post, the teacher types a grade; Canvas then refuses our older timestamp.
    g.configure({
      push: {
        hook: (point) => {
          if (point !== "before_send") return;
          emu.emulator.setHandGrade(s.lineItemId!, "learner-1", 9);
          emu.emulator.faults.timestampRefusal = { remaining: 1, userId: "learner-1" };
        },
      },
    });
    await g.push(s.contextRef);
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-1")).toMatchObject({ state: "overridden" });
    expect(cell(s, "learner-1")).toMatchObject({ resultScore: 9, setBy: "person" });
  });
});

describe("what reading back costs", () => {
  it("250 learners: at most one read per page of results; one learner: one ?userId= read; a line item Gradesync created and never wrote to: none", async () => {
    const big = await seedTriple(t.db, emu.emulator, { contextId: "rc1", resourceLinkId: "r", withLineItem: true, learners: 250 });
    await recordScores(scoresFor(big, 250, (i) => i % 10), { source: "webhook" });
    await g.push(big.contextRef);
    const page = emu.emulator.faults.lineItemPageSize;
    expect(resultReads().length).toBeGreaterThan(0);
    expect(resultReads().length).toBeLessThanOrEqual(Math.ceil(250 / page));
    expect(posts(big)).toHaveLength(250);

    emu.emulator.log.length = 0;
    await pause(1_000);
    await recordScores([{ ...scoresFor(big, 1)[0], scoreGiven: 9.5 }], { source: "webhook" });
    await g.push(big.contextRef);
    expect(resultReads().map((l) => new URL(l.path, "http://x").searchParams.get("userId") ?? new URL(l.path, "http://x").searchParams.get("user_id"))).toEqual([
      "learner-1",
    ]);

    // No line item at launch: Gradesync creates one, and has nothing to read there yet.
    const fresh = await seedTriple(t.db, emu.emulator, { contextId: "rc2", resourceLinkId: "r2", title: "Quiz" });
    emu.emulator.log.length = 0;
    await recordScores(scoresFor(fresh, 5), { source: "webhook" });
    await g.push(fresh.contextRef);
    expect(resultReads()).toHaveLength(0);
    expect(emu.emulator.lineItems(fresh.platformId, fresh.contextId)).toHaveLength(1);
  });
});

describe("reconcile", () => {
  it("finds what changed in the LMS: differs, missing (a dropped 0, a concluded course), cleared by a person, clipped; re-sends a lost row once, then it fails", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "rc10", resourceLinkId: "r", withLineItem: true, productFamilyCode: "d2l", learners: 6 });
    // learner-1 stays in sync, learner-2 a person changes, learner-3 scores 0 (dropped), learner-4
    // above the maximum (clipped), learner-5 in sync now and later cleared by a person, learner-6 discarded.
    emu.emulator.setGradebookKnobs({ platformId: s.platformId }, { dropZeroScores: true });
    await recordScores(
      [
        ...scoresFor(s, 2, () => 6),
        { ...scoresFor(s, 3)[2], scoreGiven: 0 },
        { ...scoresFor(s, 4)[3], scoreGiven: 12 },
        { ...scoresFor(s, 5)[4], scoreGiven: 7 },
      ],
      { source: "webhook" },
    );
    await g.push(s.contextRef);
    emu.emulator.setHandGrade(s.lineItemId!, "learner-2", 9);
    const first = await g.run("reconcile");
    expect(first).toMatchObject({ kind: "reconcile", outcome: "completed", counts: { inSync: 3, differs: 1, missing: 1, clipped: 1, resent: 1 } });
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-2")).toMatchObject({ state: "overridden" });
    // The lost 0 was sent once more, as a new revision (and dropped again).
    expect(posts(s, "learner-3")).toHaveLength(2);
    const drift = await q<{ drift_in_sync: number; drift_differs: number; drift_missing: number; drift_checked_at: Date | null }>(
      t.db,
      sql`SELECT drift_in_sync, drift_differs, drift_missing, drift_checked_at FROM resource_links WHERE id = ${s.resourceLinkRef}::uuid`,
    );
    expect(drift[0]).toMatchObject({ drift_in_sync: 3, drift_differs: 1, drift_missing: 1 });
    expect(drift[0].drift_checked_at).not.toBeNull();

    // A person clears learner-5's grade (a reconcile saw it in sync); learner-3 is still missing.
    emu.emulator.setHandGrade(s.lineItemId!, "learner-5", null);
    const second = await g.run("reconcile");
    expect(second.counts).toMatchObject({ inSync: 2, differs: 2, missing: 1, resent: 0 });
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-5")).toMatchObject({ state: "overridden" });
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-3")).toMatchObject({ state: "failed", reason: "not_landed" });
    expect(posts(s, "learner-3")).toHaveLength(2);

    // Nothing changed: nothing is sent.
    const before = emu.emulator.scores(s.lineItemId!).length;
    const third = await g.run("reconcile");
    expect(third.counts.sent).toBe(0);
    expect(emu.emulator.scores(s.lineItemId!).length).toBe(before);

    // The teacher puts learner-2's grade back to Gradesync's: the row is Gradesync's again.
    emu.emulator.setHandGrade(s.lineItemId!, "learner-2", 6);
    await g.run("reconcile");
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-2")).toMatchObject({ state: "sent" });
  });

  it("keeps what it read only for a link its run sends to: the re-send is checked against that read, a link in sync keeps nothing", async () => {
    const inSync = await seedTriple(t.db, emu.emulator, { contextId: "rc12", resourceLinkId: "r", withLineItem: true, learners: 3 });
    const lost = await seedTriple(t.db, emu.emulator, { contextId: "rc13", resourceLinkId: "r", withLineItem: true, learners: 3 });
    emu.emulator.setGradebookKnobs({ lineItemId: lost.lineItemId! }, { discardScores: true });
    await recordScores([...scoresFor(inSync, 3, () => 5), ...scoresFor(lost, 1, () => 5)], { source: "webhook" });
    await g.push(inSync.contextRef);
    await g.push(lost.contextRef);
    emu.emulator.log.length = 0;
    const run = await g.run("reconcile");
    expect(run.counts).toMatchObject({ inSync: 3, missing: 1, resent: 1, sent: 1 });
    const keptFor = await q<{ resource_link_ref: string }>(t.db, sql`SELECT resource_link_ref FROM lms_reads WHERE run_id = ${run.runId}::uuid`);
    expect(keptFor.map((r) => r.resource_link_ref)).toEqual([lost.resourceLinkRef]);
    // One read per link: the re-send's check used the kept read, not another request.
    expect(resultReads()).toHaveLength(2);
    expect(posts(lost, "learner-1")).toHaveLength(2);
  });

  it("a concluded course that accepts and discards: missing, re-sent once, then not_landed", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "rc11", resourceLinkId: "r", withLineItem: true, productFamilyCode: "moodle", learners: 1 });
    emu.emulator.setGradebookKnobs({ lineItemId: s.lineItemId! }, { discardScores: true });
    await recordScores(scoresFor(s, 1, () => 5), { source: "webhook" });
    await g.push(s.contextRef);
    expect((await g.run("reconcile")).counts).toMatchObject({ missing: 1, resent: 1 });
    expect((await g.run("reconcile")).counts).toMatchObject({ missing: 1, resent: 0 });
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-1")).toMatchObject({ state: "failed", reason: "not_landed" });
  });
});
