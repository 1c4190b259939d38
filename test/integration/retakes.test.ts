/**
 * Quiz retakes in the ledger: a link keeps the learner's best attempt unless its teacher chose the
 * latest; a grader's score or a correction is never replaced by an attempt; every attempt is audited,
 * with a note when kept out. Re-sends (a selector backfill) do not turn a quiz score into a grader's.
 * The teacher's control goes through a server action that re-checks the session.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { keepAttemptAction, type KeepAttemptState } from "@/app/contexts/[id]/actions";
import type { Db } from "@/lib/db/client";
import { recordScores } from "@/lib/grades/record";
import { keepAttemptOf, setKeepAttempt } from "@/lib/grades/retakes";
import { createSession } from "@/lib/session/session";
import { learnerResult } from "@/lib/views/learner";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { seedTriple, useGradeEnv, type Seeded } from "../support/seed";

vi.mock("next/headers", () => ({
  cookies: async () => ({ get: () => undefined, set: () => undefined, delete: () => undefined }),
  headers: async () => new Headers({ host: "localhost:3000" }),
}));
vi.mock("next/cache", () => ({ refresh: () => undefined, revalidatePath: () => undefined }));

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
const g = useGradeEnv(emu);

beforeEach(async () => {
  await truncateAll(t.db);
});

const rows = async <T>(db: Db, q: ReturnType<typeof sql>) => ((await db.execute(q)) as unknown as { rows: T[] }).rows;

/** One quiz attempt of learner-1, as the activity records it (scored the moment it is handed in). */
function attempt(s: Seeded, correct: number, total = 5, at = new Date()) {
  return recordScores(
    [
      {
        platformId: s.platformId,
        contextId: s.contextId,
        resourceLinkId: s.resourceLinkId,
        userId: "learner-1",
        scoreGiven: correct,
        scoreMaximum: total,
        comment: `Quiz: ${correct} of ${total} correct`,
        gradedAt: at.toISOString(),
        submittedAt: at.toISOString(),
      },
    ],
    { source: "activity", now: at },
  );
}

const seconds = (n: number) => new Date(Date.now() + n * 1000);

async function row(s: Seeded) {
  const [r] = await rows<{ score_given: number; score_maximum: number; revision: number; source: string; scored_by: string | null }>(
    t.db,
    sql`SELECT score_given, score_maximum, revision, source, scored_by FROM grade_rows WHERE resource_link_ref = ${s.resourceLinkRef}::uuid AND user_id = 'learner-1'`,
  );
  return r;
}

async function audit(s: Seeded) {
  return rows<{ source: string; score_given: number; applied: boolean; note: string | null; revision: number | null }>(
    t.db,
    sql`SELECT v.source, v.score_given, v.applied, v.note, v.revision FROM grade_revisions v JOIN grade_rows g ON g.id = v.grade_row_id
        WHERE g.resource_link_ref = ${s.resourceLinkRef}::uuid AND g.user_id = 'learner-1' ORDER BY v.id`,
  );
}

const seed = (contextId: string) => seedTriple(t.db, emu.emulator, { contextId, resourceLinkId: "quiz", withLineItem: true, learners: 2 });

describe("quiz retakes in the ledger", () => {
  it("keep the best attempt by default: a lower retake is audited (kept_best) and the grade stays", async () => {
    const s = await seed("best");
    expect(await keepAttemptOf(t.db, s.resourceLinkRef)).toBe("best");
    await attempt(s, 5, 5, seconds(-30));
    const lower = await attempt(s, 1, 5, seconds(-20));
    expect(lower).toMatchObject({ applied: 0, changed: [] });
    expect(await row(s)).toMatchObject({ score_given: 5, revision: 1 });
    // A better attempt after a worse one still counts; an equal one changes nothing.
    const s2 = await seed("best2");
    await attempt(s2, 2, 5, seconds(-30));
    await attempt(s2, 4, 5, seconds(-20));
    await attempt(s2, 4, 5, seconds(-10));
    expect(await row(s2)).toMatchObject({ score_given: 4, revision: 2 });
    expect((await audit(s2)).map((a) => [a.score_given, a.applied, a.note])).toEqual([
      [2, true, null],
      [4, true, null],
      [4, false, "unchanged"],
    ]);
    // The learner's read model says what happened to the last attempt.
    const seen = await learnerResult(t.db, { resourceLinkRef: s.resourceLinkRef, userId: "learner-1" });
    expect(seen).toMatchObject({ scoreGiven: 5, fromGrader: false, lastAttempt: { scoreGiven: 1, scoreMaximum: 5, applied: false, note: "kept_best" } });
  });

  it("keep the latest attempt when the teacher set the link so", async () => {
    const s = await seed("latest");
    await setKeepAttempt(t.db, s.resourceLinkRef, "latest");
    await attempt(s, 5, 5, seconds(-30));
    const lower = await attempt(s, 1, 5, seconds(-20));
    expect(lower).toMatchObject({ applied: 1 });
    expect(lower.duplicate === false && lower.changed.map((c) => c.contextRef)).toEqual([s.contextRef]);
    expect(await row(s)).toMatchObject({ score_given: 1, revision: 2 });
    expect((await learnerResult(t.db, { resourceLinkRef: s.resourceLinkRef, userId: "learner-1" }))!.lastAttempt).toMatchObject({ applied: true, note: null });
  });

  it("never replace a grader's score or a correction with an attempt, whatever the rule; the page says the grade is the grader's", async () => {
    for (const [contextId, keep, source] of [
      ["grader-best", "best", "webhook"],
      ["grader-latest", "latest", "webhook"],
      ["fix-latest", "latest", "backfill"],
    ] as const) {
      const s = await seed(contextId);
      await setKeepAttempt(t.db, s.resourceLinkRef, keep);
      await attempt(s, 2, 5, seconds(-60));
      // The grader (or a correction) scores the work: it replaces the quiz's score.
      await recordScores([{ platformId: s.platformId, contextId, resourceLinkId: "quiz", userId: "learner-1", scoreGiven: 3, scoreMaximum: 5, gradedAt: seconds(-50).toISOString() }], {
        source,
        correction: source === "backfill",
      });
      expect(await row(s)).toMatchObject({ score_given: 3, revision: 2, scored_by: source });
      // Attempts afterwards, higher and lower, later in time: neither replaces it.
      await attempt(s, 5, 5, seconds(-40));
      await attempt(s, 1, 5, seconds(-30));
      expect(await row(s)).toMatchObject({ score_given: 3, revision: 2 });
      expect((await audit(s)).slice(2).map((a) => [a.source, a.score_given, a.applied, a.note])).toEqual([
        ["activity", 5, false, "grader_score"],
        ["activity", 1, false, "grader_score"],
      ]);
      expect(await learnerResult(t.db, { resourceLinkRef: s.resourceLinkRef, userId: "learner-1" })).toMatchObject({
        scoreGiven: 3,
        fromGrader: true,
        lastAttempt: { scoreGiven: 1, applied: false, note: "grader_score" },
      });
    }
  });

  it("leave the webhook's own rules as they were: a grader's score replaces a quiz score, lower or not", async () => {
    const s = await seed("webhook-after");
    await attempt(s, 5, 5, seconds(-30));
    await recordScores([{ platformId: s.platformId, contextId: s.contextId, resourceLinkId: "quiz", userId: "learner-1", scoreGiven: 1, scoreMaximum: 5, gradedAt: seconds(-20).toISOString() }], {
      source: "webhook",
    });
    expect(await row(s)).toMatchObject({ score_given: 1, revision: 2, source: "webhook" });
  });

  it("audit every attempt, applied or not", async () => {
    const s = await seed("audit");
    const scores = [3, 5, 1, 4, 5, 2];
    for (const [i, n] of scores.entries()) await attempt(s, n, 5, seconds(-100 + i * 10));
    const seen = await audit(s);
    expect(seen.map((a) => a.score_given)).toEqual(scores);
    expect(seen.map((a) => a.applied)).toEqual([true, true, false, false, false, false]);
    expect(seen.map((a) => a.note)).toEqual([null, null, "kept_best", "kept_best", "unchanged", "kept_best"]);
    expect(seen.every((a) => a.source === "activity")).toBe(true);
    expect(await row(s)).toMatchObject({ score_given: 5, revision: 2 });
  });

  it("a re-send (selector backfill) keeps a quiz score the learner's: a better attempt still counts", async () => {
    const s = await seed("resend");
    await attempt(s, 2, 5, seconds(-30));
    await g.run("backfill", { platformId: s.platformId, contextId: s.contextId });
    expect(await row(s)).toMatchObject({ score_given: 2, source: "backfill", scored_by: "activity" });
    await attempt(s, 4, 5, seconds(5));
    expect(await row(s)).toMatchObject({ score_given: 4, source: "activity" });
  });

  it("rows recorded before the rule take who scored them from their history (the migration's update)", async () => {
    const s = await seed("history");
    await attempt(s, 2, 5, seconds(-30));
    await g.run("backfill", { platformId: s.platformId, contextId: s.contextId });
    const other = await seed("history-grader");
    await recordScores([{ platformId: other.platformId, contextId: other.contextId, resourceLinkId: "quiz", userId: "learner-1", scoreGiven: 3, scoreMaximum: 5 }], { source: "webhook" });
    await t.db.execute(sql`UPDATE grade_rows SET scored_by = NULL`);
    const migration = readFileSync(path.resolve(import.meta.dirname, "../../drizzle/0006_quiz_retakes.sql"), "utf8");
    const update = migration.slice(migration.indexOf('UPDATE "grade_rows"'));
    expect(update).toContain("scored_by");
    await t.db.execute(sql.raw(update));
    expect(await row(s)).toMatchObject({ source: "backfill", scored_by: "activity" });
    expect(await row(other)).toMatchObject({ source: "webhook", scored_by: "webhook" });
  });
});

describe("the teacher's retake control", () => {
  async function person(s: Seeded, userId: string, kind: "teacher" | "learner") {
    const [u] = await rows<{ id: string }>(t.db, sql`INSERT INTO users (platform_ref, user_id, name) VALUES (${s.platformRef}::uuid, ${userId}, ${userId}) RETURNING id`);
    await t.db.execute(sql`INSERT INTO memberships (context_ref, user_ref, kind) VALUES (${s.contextRef}::uuid, ${u.id}::uuid, ${kind})`);
    return (await createSession({ platformRef: s.platformRef, contextRef: s.contextRef, userRef: u.id, role: kind, lmsOrigins: [] })).token;
  }
  const form = (fields: Record<string, string>) => {
    const f = new FormData();
    for (const [k, v] of Object.entries(fields)) f.set(k, v);
    return f;
  };
  const idle: KeepAttemptState = { tone: "muted", message: "" };

  it("sets the link's rule for a teacher, re-checking the session; a learner or a bad value changes nothing", async () => {
    const s = await seed("control");
    const teacher = await person(s, "teacher-9", "teacher");
    const learner = await person(s, "learner-9", "learner");
    expect(await keepAttemptAction(idle, form({ s: learner, link: s.resourceLinkRef, keep: "latest" }))).toMatchObject({ tone: "bad", message: expect.stringContaining("for the teachers") });
    expect(await keepAttemptAction(idle, form({ link: s.resourceLinkRef, keep: "latest" }))).toMatchObject({ tone: "bad", message: expect.stringContaining("session has ended") });
    expect(await keepAttemptAction(idle, form({ s: teacher, link: s.resourceLinkRef, keep: "worst" }))).toMatchObject({ tone: "bad" });
    expect(await keepAttemptOf(t.db, s.resourceLinkRef)).toBe("best");
    expect(await keepAttemptAction(idle, form({ s: teacher, link: s.resourceLinkRef, keep: "latest" }))).toEqual({
      tone: "ok",
      message: "Saved: each student's latest attempt counts, from their next attempt on.",
    });
    expect(await keepAttemptOf(t.db, s.resourceLinkRef)).toBe("latest");
    await keepAttemptAction(idle, form({ s: teacher, link: s.resourceLinkRef, keep: "best" }));
    expect(await keepAttemptOf(t.db, s.resourceLinkRef)).toBe("best");
  });
});
