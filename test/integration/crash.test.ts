/**
 * A crash between any two steps of a push, then a re-run (after the dead run's leases expire): no
 * score lost, none regressed, no revision sent twice — except the one whose answer was never recorded.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { recordScores } from "@/lib/grades/record";
import type { CrashPoint } from "@/lib/grades/push";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { gradeRow, scoresFor, seedTriple, useGradeEnv } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
const g = useGradeEnv(emu);

class Crash extends Error {}

function crashAt(point: CrashPoint, nth: number) {
  let seen = 0;
  let crashedRow: number | undefined;
  g.configure({
    push: {
      hook: (p, rowId) => {
        if (p === point && ++seen === nth) {
          crashedRow = rowId;
          throw new Crash(`crash at ${point}`);
        }
      },
    },
  });
  return () => crashedRow;
}

/** What a restart sees: the dead process's leases have run out. */
const expireLeases = () => t.db.execute(sql`UPDATE grade_rows SET lease_until = now() - interval '1 second' WHERE lease_token IS NOT NULL`);

beforeEach(async () => {
  await truncateAll(t.db);
});

const points: CrashPoint[] = ["claimed", "before_send", "answered", "recorded"];

describe("crash between steps, then a re-run", () => {
  it.each(points)("crash at %s", async (point) => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: `k-${point}`, resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(s, 6, (i) => i + 1), { source: "webhook" });
    const crashed = crashAt(point, 3);
    await expect(g.push(s.contextRef)).rejects.toBeInstanceOf(Crash);
    const crashedRowId = crashed()!;
    const crashedUser = ((await t.db.execute(sql`SELECT user_id FROM grade_rows WHERE id = ${crashedRowId}`)) as unknown as { rows: { user_id: string }[] }).rows[0].user_id;

    // Meanwhile a newer score arrives for the learner caught in the crash.
    await recordScores([{ ...scoresFor(s, 1)[0], userId: crashedUser, scoreGiven: 9.5 }], { source: "webhook" });

    g.configure({ push: { hook: undefined } });
    await expireLeases();
    await g.push(s.contextRef);

    const posts = emu.emulator.scores(s.lineItemId!);
    for (let i = 1; i <= 6; i++) {
      const user = `learner-${i}`;
      const row = await gradeRow(t.db, s.resourceLinkRef, user);
      // Nothing lost: every row sent, at its newest revision.
      expect(row.state).toBe("sent");
      expect(row.sent_revision).toBe(row.revision);
      const mine = posts.filter((p) => p.userId === user);
      // Nothing regressed: the LMS's last value is the newest score.
      expect(mine.at(-1)!.scoreGiven).toBe(user === crashedUser ? 9.5 : i);
      const values = mine.map((p) => p.scoreGiven);
      // Each revision once; only an answer never recorded may be sent again (then newest after it).
      if (user === crashedUser && point === "answered") expect(values).toEqual([i, 9.5]);
      else if (user === crashedUser && point === "recorded") expect(values).toEqual([i, 9.5]);
      else if (user === crashedUser) expect(values).toEqual([9.5]);
      else expect(new Set(values).size).toBe(values.length);
      expect(values.length).toBe(new Set(values).size);
    }
  });

  it("a crash after creating the line item but before recording it: the re-run finds it, never a second one", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "k-li", resourceLinkId: "r-li", title: "Quiz" });
    await recordScores(scoresFor(s, 2), { source: "webhook" });
    // The dead run held the creation lease and had created the item in the LMS.
    emu.emulator.addLineItem(s.platformId, s.contextId, { label: "Quiz", scoreMaximum: 10, resourceLinkId: "r-li", tag: "gradesync" });
    await t.db.execute(sql`UPDATE resource_links SET line_item_claim = 'dead-run', line_item_claim_until = now() - interval '1 second'
      WHERE id = ${s.resourceLinkRef}::uuid`);
    await g.push(s.contextRef);
    const items = emu.emulator.lineItems(s.platformId, s.contextId);
    expect(items).toHaveLength(1);
    expect(emu.emulator.scores(items[0].id)).toHaveLength(2);
  });

  it("a crash between recording a score and pushing it loses nothing: the row waits, pending", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "k-rec", resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(s, 3), { source: "webhook" });
    // (The process dies here; the debounced push never runs.) The nightly push sends them.
    const { rows } = (await t.db.execute(sql`SELECT count(*)::int AS n FROM grade_rows WHERE state = 'pending'`)) as unknown as { rows: { n: number }[] };
    expect(rows[0].n).toBe(3);
    await g.push(s.contextRef);
    expect(emu.emulator.scores(s.lineItemId!)).toHaveLength(3);
  });
});
