/**
 * Concurrency is real only on Postgres (PGlite has one connection): these count only there and are
 * skipped otherwise — run with DATABASE_URL to prove them.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { recordScores } from "@/lib/grades/record";
import { prepareLinks } from "@/lib/grades/push";
import { pushDepsOf } from "@/lib/jobs/definitions/push-context";
import { onPostgres, truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { gradeRow, scoresFor, seedTriple, useGradeEnv } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
const g = useGradeEnv(emu);

const pg = onPostgres();
const itPg = pg ? it : it.skip;
const why = pg ? "" : " [skipped: needs DATABASE_URL — PGlite has one connection, nothing runs concurrently]";

beforeEach(async () => {
  await truncateAll(t.db);
});

describe("concurrent runs on Postgres", () => {
  itPg(`two pushes of one context at once: each revision sent once${why}`, async () => {
    emu.emulator.faults.latencyMs = 3;
    const s = await seedTriple(t.db, emu.emulator, { contextId: "cc1", resourceLinkId: "r", withLineItem: true, learners: 150 });
    await recordScores(scoresFor(s, 150, (i) => (i % 9) + 1), { source: "webhook" });
    const [a, b] = await Promise.all([g.pushElsewhere(s.contextRef), g.pushElsewhere(s.contextRef)]);
    // Both really worked: the rows were split between them.
    expect(a.sent).toBeGreaterThan(0);
    expect(b.sent).toBeGreaterThan(0);
    expect(a.sent + b.sent).toBe(150);
    const posts = emu.emulator.scores(s.lineItemId!);
    expect(posts).toHaveLength(150);
    expect(new Set(posts.map((p) => p.userId)).size).toBe(150);
    expect((await gradeRow(t.db, s.resourceLinkRef, "learner-77")).state).toBe("sent");
  });

  itPg(`two runs resolving a link that never had a line item create exactly one${why}`, async () => {
    emu.emulator.faults.latencyMs = 20;
    const s = await seedTriple(t.db, emu.emulator, { contextId: "cc2", resourceLinkId: "r2", title: "Lab" });
    await recordScores(scoresFor(s, 2), { source: "webhook" });
    const deps = pushDepsOf(await g.deps(), null);
    const results = await Promise.all(Array.from({ length: 4 }, () => prepareLinks(deps, s.contextRef)));
    expect(emu.emulator.lineItems(s.platformId, s.contextId)).toHaveLength(1);
    const id = emu.emulator.lineItems(s.platformId, s.contextId)[0].id;
    for (const r of results) expect(r.links[0]).toMatchObject({ state: "ok", lineItemId: id });
  });
});
