import { beforeEach, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { GET } from "@/app/api/health/route";
import { setDbForTests } from "@/lib/db/client";
import { recordScores } from "@/lib/grades/record";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { TEST_KEYS } from "../support/env";
import { scoresFor, seedTriple, useGradeEnv } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
const g = useGradeEnv(emu);

beforeEach(async () => {
  await truncateAll(t.db);
});

describe("GET /api/health", () => {
  it("reports an empty system", async () => {
    const res = await GET();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      ok: true,
      db: "ok",
      pending: 0,
      oldestPendingSeconds: null,
      failed24h: 0,
      staleKeys: 0,
      lastRuns: { "push-grades": null, "refresh-rosters": null, backfill: null, "retry-failed": null, reconcile: null },
      overridden: 0,
      paused: { platforms: 0, links: 0 },
    });
  });

  it("counts pending (with the oldest's age), failures of the last 24 h, stale keys and the last runs", async () => {
    const a = await seedTriple(t.db, emu.emulator, { contextId: "h1", resourceLinkId: "r", withLineItem: true });
    const b = await seedTriple(t.db, emu.emulator, { contextId: "h2", resourceLinkId: "r", withLineItem: true });
    await recordScores([...scoresFor(a, 3), ...scoresFor(b, 2)], { source: "webhook" });
    await t.db.execute(sql`UPDATE grade_rows SET pending_since = now() - interval '340 seconds' WHERE user_id = 'learner-1'`);
    await t.db.execute(sql`UPDATE grade_counters SET oldest_pending_at = now() - interval '340 seconds'`);
    let body = await (await GET()).json();
    expect(body).toMatchObject({ pending: 5, failed24h: 0, staleKeys: 0 });
    expect(body.oldestPendingSeconds).toBeGreaterThanOrEqual(340);
    expect(body.oldestPendingSeconds).toBeLessThan(400);

    emu.emulator.revokeServiceKey(a.serviceKey);
    emu.emulator.faults.serverErrors = { status: 500, remaining: 1000, method: "POST" };
    await g.run("push-grades");
    body = await (await GET()).json();
    expect(body).toMatchObject({ pending: 3, failed24h: 2, staleKeys: 1 });
    expect(body.lastRuns["push-grades"]).toMatchObject({ outcome: "partial", startedAt: expect.any(String), finishedAt: expect.any(String) });
    // Nothing secret in the answer.
    const text = JSON.stringify(body);
    for (const s of [TEST_KEYS.apiKey, a.serviceKey, TEST_KEYS.webhook, TEST_KEYS.cron]) expect(text).not.toContain(s);
  });

  it("answers 503 when the database is unreachable", async () => {
    setDbForTests({
      db: { execute: () => Promise.reject(new Error("connection refused")) } as never,
      driver: "node-postgres",
      close: async () => undefined,
    });
    try {
      const res = await GET();
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ ok: false, db: "unreachable" });
    } finally {
      setDbForTests(t.handle);
    }
  });
});
