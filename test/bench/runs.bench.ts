/**
 * Bookkeeping of a run fanned out under Inngest, on Postgres (BENCH_DATABASE_URL): a run of
 * BENCH_RUN_UNITS (default 10,000) courses, each unit marked done one after the other as its
 * function finishes. Printed: time per `unitDone` at the start, the middle and the end of the run
 * (side by side: it must not grow with the number of units already done) and the whole run's total.
 *
 *   npm run bench runs
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { openDatabase } from "../../lib/db/client";
import { expectUnits, runSummary, SELF, startRun, unitDone } from "../../lib/jobs/runs";
import { freshDatabase, ms, summary } from "./support";

const UNITS = Number(process.env.BENCH_RUN_UNITS ?? 10_000);
const SAMPLE = 200;

const pg = await freshDatabase("gs_bench_runs");
const handle = await openDatabase({ driver: "node-postgres", url: pg.url }, { migrate: true });
const db = handle.db;
try {
  const runId = await startRun(db, { kind: "push-grades", trigger: "bench", unit: SELF });
  const contexts = Array.from({ length: UNITS }, () => randomUUID());
  await expectUnits(db, runId, contexts);
  // The run's own body is done: it waits for its units alone.
  await unitDone(db, runId, SELF, {});
  await db.execute(sql`ANALYZE sync_run_units`);

  const times: number[] = [];
  const t0 = performance.now();
  for (const c of contexts) {
    const t = performance.now();
    await unitDone(db, runId, c, { sent: 1 });
    times.push(performance.now() - t);
  }
  const total = performance.now() - t0;
  const first = summary(times.slice(0, SAMPLE));
  const middle = summary(times.slice(UNITS / 2 - SAMPLE / 2, UNITS / 2 + SAMPLE / 2));
  const last = summary(times.slice(-SAMPLE - 1, -1));
  const run = await runSummary(db, runId);
  console.log(`unitDone, first ${SAMPLE} units: median ${ms(first.median)} p95 ${ms(first.p95)}`);
  console.log(`unitDone, middle ${SAMPLE} units: median ${ms(middle.median)} p95 ${ms(middle.p95)}`);
  console.log(`unitDone, last ${SAMPLE} units (before the settle): median ${ms(last.median)} p95 ${ms(last.p95)}`);
  console.log(`ratio last/first median: ${(last.median / first.median).toFixed(2)} (flat is ≤ 1.5)`);
  console.log(`${UNITS} units finished in ${(total / 1000).toFixed(1)} s; run ${run.outcome}, sent ${run.counts.sent}`);
} finally {
  await handle.close();
  await pg.drop();
}
