import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { recordScores } from "@/lib/grades/record";
import { runCliJob, parseCliArgs, withFileRead } from "@/lib/jobs/cli";
import type { BackfillOutcome } from "@/lib/jobs/definitions/backfill";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { gradeRow, scoresFor, seedTriple, useGradeEnv } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
const g = useGradeEnv(emu);

beforeEach(async () => {
  await truncateAll(t.db);
});

const pause = () => new Promise((r) => setTimeout(r, 1000));

describe("backfill", () => {
  it("a selector re-sends the current scores it picks as new revisions; since narrows it", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "b1", resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(s, 3), { source: "webhook" });
    await g.run("push-grades");
    await t.db.execute(sql`UPDATE grade_rows SET recorded_at = now() - interval '2 days' WHERE user_id <> 'learner-3'`);
    await pause();
    const since = new Date(Date.now() - 86_400_000).toISOString();
    const run = await g.run("backfill", { platformId: s.platformId, contextId: s.contextId, since });
    expect(run).toMatchObject({ outcome: "completed", counts: { sent: 1 }, backfill: { revised: 1, dryRun: false } });
    expect((await gradeRow(t.db, s.resourceLinkRef, "learner-3")).revision).toBe(2);
    expect((await gradeRow(t.db, s.resourceLinkRef, "learner-1")).revision).toBe(1);
    const { rows } = (await t.db.execute(sql`SELECT source, note FROM grade_revisions WHERE note = 'resend'`)) as unknown as { rows: unknown[] };
    expect(rows).toEqual([{ source: "backfill", note: "resend" }]);
  });

  it("its summary counts what is left pending in the contexts it touched, not rows stuck elsewhere", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "b1s", resourceLinkId: "r", withLineItem: true });
    const stuck = await seedTriple(t.db, emu.emulator, { contextId: "b1x", resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(s, 2), { source: "webhook" });
    await g.run("push-grades");
    // Another course waits for a relaunch: its rows stay pending whatever this backfill does.
    emu.emulator.revokeServiceKey(stuck.serviceKey);
    await recordScores(scoresFor(stuck, 3), { source: "webhook" });
    await g.run("push-grades");
    await pause();
    const run = await g.run("backfill", { platformId: s.platformId, contextId: s.contextId });
    expect(run).toMatchObject({ outcome: "completed", counts: { sent: 2, pending: 0 } });
  });

  it("never re-sends a score that would clear a grade", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "b2", resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(s, 2), { source: "webhook" });
    await g.run("push-grades");
    await recordScores(scoresFor(s, 1, () => 0, { gradingProgress: "Pending" }), { source: "webhook" });
    await pause();
    const dry = await g.run("backfill", { platformId: s.platformId, dryRun: true });
    expect(dry.backfill).toMatchObject({ dryRun: true, wouldSend: 1 });
    expect((dry.backfill as BackfillOutcome).rows!.map((r) => r.userId)).toEqual(["learner-2"]);
    const real = await g.run("backfill", { platformId: s.platformId });
    expect(real.counts.sent).toBe(1);
    expect(emu.emulator.scores(s.lineItemId!).filter((p) => p.userId === "learner-1")).toHaveLength(1);
  });

  it("corrections from a CSV file become new revisions whatever their gradedAt (CLI --file), dry run first", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "b3", resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(s, 2, () => 4, { gradedAt: "2026-11-27T10:00:00.000Z" }), { source: "webhook" });
    await g.run("push-grades");
    const dir = mkdtempSync(path.join(os.tmpdir(), "gs-bf-"));
    try {
      const file = path.join(dir, "fix.csv");
      writeFileSync(
        file,
        `platformId,contextId,resourceLinkId,userId,scoreGiven,scoreMaximum,comment,gradedAt\n` +
          `${s.platformId},${s.contextId},${s.resourceLinkId},learner-1,9,10,"regraded, sorry",2026-11-01T00:00:00.000Z\n`,
      );
      const dry = await runCliJob(t.db, withFileRead(parseCliArgs(["backfill", "--file", file, "--dry-run"])));
      expect(dry.backfill).toMatchObject({ dryRun: true, wouldSend: 1 });
      expect(emu.emulator.scores(s.lineItemId!)).toHaveLength(2);
      await pause();
      const run = await runCliJob(t.db, withFileRead(parseCliArgs(["backfill", "--file", file])));
      expect(run).toMatchObject({ outcome: "completed", counts: { sent: 1 } });
      const last = emu.emulator.scores(s.lineItemId!).at(-1)!;
      expect(last).toMatchObject({ userId: "learner-1", scoreGiven: 9, comment: "regraded, sorry" });
      const { rows } = (await t.db.execute(sql`SELECT source, applied FROM grade_revisions WHERE score_given = 9`)) as unknown as { rows: unknown[] };
      expect(rows).toEqual([{ source: "backfill", applied: true }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--context takes an /api/status id and re-sends that link only", async () => {
    const a = await seedTriple(t.db, emu.emulator, { contextId: "b4", resourceLinkId: "r", withLineItem: true });
    const b = await seedTriple(t.db, emu.emulator, { contextId: "b5", resourceLinkId: "r", withLineItem: true });
    await recordScores([...scoresFor(a, 2), ...scoresFor(b, 2)], { source: "webhook" });
    await g.run("push-grades");
    await pause();
    const run = await runCliJob(t.db, parseCliArgs(["backfill", "--context", a.resourceLinkRef]));
    expect(run.counts.sent).toBe(2);
    expect(emu.emulator.scores(a.lineItemId!)).toHaveLength(4);
    expect(emu.emulator.scores(b.lineItemId!)).toHaveLength(2);
  });
});
