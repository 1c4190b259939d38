import { beforeEach, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { recordScores, UnknownTripleError } from "@/lib/grades/record";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { counters, gradeRow, scoresFor, seedTriple, useGradeEnv } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
const g = useGradeEnv(emu);

beforeEach(async () => {
  await truncateAll(t.db);
});

async function recount(ref: string) {
  const { rows } = (await t.db.execute(sql`SELECT
      count(*) FILTER (WHERE state = 'pending')::int AS pending, count(*) FILTER (WHERE state = 'sent')::int AS sent,
      count(*) FILTER (WHERE state = 'skipped')::int AS skipped, count(*) FILTER (WHERE state = 'failed')::int AS failed,
      min(pending_since) FILTER (WHERE state = 'pending') AS oldest
    FROM grade_rows WHERE resource_link_ref = ${ref}::uuid`)) as unknown as { rows: { pending: number; sent: number; skipped: number; failed: number; oldest: Date | null }[] };
  return rows[0];
}

describe("the ledger", () => {
  it("keeps per-link counters equal to a full count through records, pushes, skips and failures", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "l1", resourceLinkId: "r", withLineItem: true });
    const check = async () => {
      const c = await counters(t.db, s.resourceLinkRef);
      const r = await recount(s.resourceLinkRef);
      expect({ pending: c.pending, sent: c.sent, skipped: c.skipped, failed: c.failed }).toEqual({ pending: r.pending, sent: r.sent, skipped: r.skipped, failed: r.failed });
      expect(c.oldest_pending_at === null ? null : new Date(c.oldest_pending_at).getTime()).toBe(r.oldest === null ? null : new Date(r.oldest).getTime());
    };
    await recordScores(scoresFor(s, 10), { source: "webhook" });
    await check();
    emu.emulator.faults.notGradable.add("learner-3");
    emu.emulator.faults.serverErrors = { status: 500, remaining: 1 };
    await g.run("push-grades");
    await check();
    await recordScores(scoresFor(s, 5, (i) => i + 20), { source: "webhook" });
    await recordScores(scoresFor(s, 1, () => 1, { gradingProgress: "NotReady" }).map((e) => ({ ...e, userId: "learner-9" })), { source: "webhook" });
    await check();
    await t.db.execute(sql`DELETE FROM grade_rows WHERE user_id = 'learner-10'`);
    await check();
  });

  it("records nothing new when nothing changed; a new value is a new revision", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "l2", resourceLinkId: "r", withLineItem: true });
    const r1 = await recordScores(scoresFor(s, 2), { source: "activity" });
    expect(r1).toMatchObject({ duplicate: false, accepted: 2, applied: 2 });
    const r2 = await recordScores(scoresFor(s, 2), { source: "activity" });
    expect(r2).toMatchObject({ accepted: 2, applied: 0, changed: [] });
    expect((await gradeRow(t.db, s.resourceLinkRef, "learner-1")).revision).toBe(1);
    await recordScores(scoresFor(s, 1, () => 5), { source: "activity" });
    expect((await gradeRow(t.db, s.resourceLinkRef, "learner-1")).revision).toBe(2);
    const { rows } = (await t.db.execute(sql`SELECT note FROM grade_revisions WHERE applied = false`)) as unknown as { rows: { note: string }[] };
    expect(rows.map((r) => r.note)).toEqual(["unchanged", "unchanged"]);
  });

  it("within one delivery, the later of two scores for one user wins on equal gradedAt", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "l3", resourceLinkId: "r", withLineItem: true });
    const at = "2026-11-27T10:00:00.000Z";
    await recordScores([...scoresFor(s, 1, () => 3, { gradedAt: at }), ...scoresFor(s, 1, () => 6, { gradedAt: at })], { source: "webhook" });
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-1")).toMatchObject({ score_given: 6, revision: 1 });
  });

  it("refuses every entry of a batch with an unknown triple (all or nothing)", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "l4", resourceLinkId: "r", withLineItem: true });
    await expect(recordScores([...scoresFor(s, 2), { ...scoresFor(s, 1)[0], contextId: "nope" }], { source: "activity" })).rejects.toBeInstanceOf(UnknownTripleError);
    expect(await recount(s.resourceLinkRef)).toMatchObject({ pending: 0, sent: 0 });
  });
});

describe("webhook delivery ids", () => {
  it("are kept at least 30 days, then pruned by the nightly push", async () => {
    await t.db.execute(sql`INSERT INTO webhook_deliveries (id, accepted, received_at) VALUES
      ('fresh', 1, now() - interval '29 days'), ('month', 1, now() - interval '31 days'), ('old', 1, now() - interval '40 days')`);
    await g.run("push-grades");
    const { rows } = (await t.db.execute(sql`SELECT id FROM webhook_deliveries ORDER BY id`)) as unknown as { rows: { id: string }[] };
    expect(rows.map((r) => r.id)).toEqual(["fresh", "month"]);
  });
});

describe("runs nothing will finish", () => {
  it("are ended as failed by the nightly push after 24 h, saying why; younger ones keep running", async () => {
    await t.db.execute(sql`INSERT INTO sync_runs (kind, trigger, started_at) VALUES
      ('push-grades', 'cli', now() - interval '25 hours'), ('backfill', 'inngest', now() - interval '23 hours')`);
    await g.run("push-grades");
    const { rows } = (await t.db.execute(sql`SELECT kind, outcome, error FROM sync_runs WHERE trigger <> 'test' ORDER BY kind`)) as unknown as {
      rows: { kind: string; outcome: string; error: string | null }[];
    };
    expect(rows).toEqual([
      { kind: "backfill", outcome: "running", error: null },
      { kind: "push-grades", outcome: "failed", error: "abandoned: still running after 24 h (its process stopped, or a unit never ran)" },
    ]);
  });
});
