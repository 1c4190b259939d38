/**
 * The teacher's say over their gradebook, through the page's server actions: "Changed in your
 * gradebook" lists what a person set in the LMS, "Send Gradesync's score" overwrites exactly the rows
 * and values that were shown, and Pause/Resume holds and releases the assignment's grades. The
 * learner is told when their teacher changed the grade.
 */
import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { overwriteAction, pauseAction, type GradebookActionState } from "@/app/contexts/[id]/gradebook-actions";
import type { Db } from "@/lib/db/client";
import { recordScores } from "@/lib/grades/record";
import { getLink } from "@/lib/links/state";
import { createSession } from "@/lib/session/session";
import { gradebookChanges } from "@/lib/views/gradebook-changes";
import { learnerResult } from "@/lib/views/learner";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { gradeRow, scoresFor, seedTriple, useGradeEnv, type Seeded } from "../support/seed";

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
const cell = (s: Seeded, user: string) => emu.emulator.gradebook(s.lineItemId!).find((c) => c.userId === user);
const idle: GradebookActionState = { tone: "muted", message: "" };

async function person(s: Seeded, userId: string, kind: "teacher" | "learner") {
  const [u] = await rows<{ id: string }>(
    t.db,
    sql`INSERT INTO users (platform_ref, user_id, name) VALUES (${s.platformRef}::uuid, ${userId}, ${userId}) ON CONFLICT (platform_ref, user_id) DO UPDATE SET name = excluded.name RETURNING id`,
  );
  await t.db.execute(sql`INSERT INTO memberships (context_ref, user_ref, kind) VALUES (${s.contextRef}::uuid, ${u!.id}::uuid, ${kind})`);
  return (await createSession({ platformRef: s.platformRef, contextRef: s.contextRef, userRef: u!.id, role: kind, lmsOrigins: [] })).token;
}

function form(fields: Record<string, string | string[]>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) f.append(k, x);
  return f;
}

const shown = (userId: string, s: number | null, m: number | null) => JSON.stringify({ u: userId, s, m });

/** Two learners sent 5/10, then a teacher sets learner-1 to 9 by hand and a push reads it back. */
async function handChanged() {
  const s = await seedTriple(t.db, emu.emulator, { contextId: "c", resourceLinkId: "r", withLineItem: true, learners: 2 });
  await recordScores(scoresFor(s, 2, () => 5), { source: "webhook" });
  await g.push(s.contextRef);
  emu.emulator.setHandGrade(s.lineItemId!, "learner-1", 9);
  await new Promise((r) => setTimeout(r, 1_000));
  await recordScores(scoresFor(s, 2, () => 6), { source: "webhook" });
  await g.push(s.contextRef);
  return s;
}

describe("Changed in your gradebook", () => {
  it("lists a hand-changed grade with both values, and Send Gradesync's score overwrites exactly what was shown", async () => {
    const s = await handChanged();
    const teacher = await person(s, "teacher-1", "teacher");
    const { rows: changes, total } = await gradebookChanges(t.db, s.resourceLinkRef);
    expect(total).toBe(1);
    expect(changes[0]).toMatchObject({ userId: "learner-1", scoreGiven: 6, scoreMaximum: 10, lmsScore: 9, lmsMaximum: 10, newer: true });
    expect(changes[0]!.seenAt).toBeInstanceOf(Date);

    // The learner is told; the other learner's grade went through.
    expect(await learnerResult(t.db, { resourceLinkRef: s.resourceLinkRef, userId: "learner-1" })).toMatchObject({ state: "overridden", lms: { scoreGiven: 9, scoreMaximum: 10 } });
    expect(cell(s, "learner-2")).toMatchObject({ resultScore: 6 });

    // A learner may not overwrite; a list that cannot be read is refused before anything happens.
    const learner = await person(s, "learner-1", "learner");
    expect(await overwriteAction(idle, form({ s: learner, link: s.resourceLinkRef, shown: shown("learner-1", 9, 10) }))).toMatchObject({
      tone: "bad", message: expect.stringContaining("for the teachers"),
    });
    expect(await overwriteAction(idle, form({ s: teacher, link: s.resourceLinkRef, shown: "{nope" }))).toMatchObject({ tone: "bad", message: expect.stringContaining("could not be read") });
    expect(await overwriteAction(idle, form({ s: teacher, link: s.resourceLinkRef }))).toMatchObject({ tone: "bad" });

    // A value other than the one shown (the grade changed again since): nothing is sent.
    expect(await overwriteAction(idle, form({ s: teacher, link: s.resourceLinkRef, shown: shown("learner-1", 8, 10) }))).toMatchObject({
      tone: "warn", message: expect.stringMatching(/^Nothing was sent\. 1 student changed again/),
    });
    expect(cell(s, "learner-1")).toMatchObject({ resultScore: 9, setBy: "person" });

    const answer = await overwriteAction(idle, form({ s: teacher, link: s.resourceLinkRef, shown: shown("learner-1", 9, 10) }));
    expect(answer).toEqual({ tone: "ok", message: "Gradesync's score replaced the gradebook's for 1 student." });
    expect(cell(s, "learner-1")).toMatchObject({ resultScore: 6, setBy: "tool" });
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-1")).toMatchObject({ state: "sent" });
    expect((await gradebookChanges(t.db, s.resourceLinkRef)).total).toBe(0);
    const audit = await rows<{ source: string; note: string }>(
      t.db,
      sql`SELECT v.source, v.note FROM grade_revisions v JOIN grade_rows g ON g.id = v.grade_row_id
          WHERE g.resource_link_ref = ${s.resourceLinkRef}::uuid AND g.user_id = 'learner-1' ORDER BY v.id DESC LIMIT 1`,
    );
    expect(audit[0]).toEqual({ source: "overwrite", note: "overwrite" });
  });
});

describe("Pause sending", () => {
  it("holds the assignment's grades while paused and sends them on resume; only a teacher may", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "p", resourceLinkId: "r", withLineItem: true, learners: 2 });
    const teacher = await person(s, "teacher-1", "teacher");
    const learner = await person(s, "learner-1", "learner");
    expect(await pauseAction(idle, form({ s: learner, link: s.resourceLinkRef, pause: "pause" }))).toMatchObject({ tone: "bad" });
    expect(await pauseAction(idle, form({ s: teacher, link: s.resourceLinkRef, pause: "stop" }))).toMatchObject({ tone: "bad" });

    expect(await pauseAction(idle, form({ s: teacher, link: s.resourceLinkRef, pause: "pause" }))).toMatchObject({ tone: "ok", message: expect.stringMatching(/^Paused/) });
    expect(await getLink(t.db, s.resourceLinkRef)).toMatchObject({ paused: true, pausedAt: expect.any(Date) });
    await recordScores(scoresFor(s, 2, () => 7), { source: "webhook" });
    const run = await g.push(s.contextRef);
    expect(run.counts).toMatchObject({ sent: 0, paused: 2 });
    expect(emu.emulator.scores(s.lineItemId!)).toHaveLength(0);

    expect(await pauseAction(idle, form({ s: teacher, link: s.resourceLinkRef, pause: "resume" }))).toMatchObject({
      tone: "ok", message: "Resumed: the waiting grades are being sent now.",
    });
    await expect.poll(() => emu.emulator.scores(s.lineItemId!).length, { timeout: 10_000 }).toBe(2);
    expect(await getLink(t.db, s.resourceLinkRef)).toMatchObject({ paused: false, pausedAt: null });
  });
});
