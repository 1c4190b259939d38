/**
 * Issue #3's sync figures, all through the INLINE runner (what runs here: no Inngest server), on
 * Postgres (BENCH_DATABASE_URL, default the machine's local one), against the emulator in a child
 * process (as a real LMS, it does not share the pipeline's event loop). Printed as ratios measured side by side in one run:
 *  1. 10 platforms × 5 contexts × 40 learners = 2,000 pending scores at 50 ms latency: time to push all
 *     vs the ideal 2000 ÷ (platforms × PLATFORM_CONCURRENCY ÷ latency) — target efficiency ≥ 0.85;
 *  2. vs a naive sequential loop (one POST after another) timed on a sample in the same run;
 *  3. a second push with nothing changed: requests sent — must be 0;
 *  4. steps per context (counted from the handler's step calls) — target ≤ ⌈pending ÷ 100⌉ + 3;
 *  5. zero latency: scores per second the pipeline sustains (our CPU + database) — target ≥ 1,000/s;
 *  6. peak RSS while pushing BENCH_SYNC_BIG (default 100,000) pending scores — target ≤ 512 MB
 *     (against a stateless LMS sink in another process, so the figure is the pipeline's alone).
 *
 *   npm run bench sync
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "../../lib/db/schema";
import { createInterface } from "node:readline";
import { openDatabase, setDbForTests, type Db } from "../../lib/db/client";
import { seal } from "../../lib/crypto/seal";
import { parseEnv, setEnvForTests } from "../../lib/env";
import { recordScores } from "../../lib/grades/record";
import { PlatformGate } from "../../lib/ltiaas/gate";
import { jobDeps, type DepsOverrides } from "../../lib/jobs/deps";
import { pushContextJob } from "../../lib/jobs/definitions/push-context";
import { createDispatcher } from "../../lib/jobs/dispatch";
import { executeJob } from "../../lib/jobs/execute";
import { inlineStep } from "../../lib/jobs/inline";
import { createLtiaasClient, ltiaas, type LtiaasClient } from "../../lib/ltiaas";
import { freshDatabase } from "./support";

process.env.GRADESYNC_LOG ??= "silent";
const API_KEY = "bench-api-key";
const PLATFORMS = 10;
const CONTEXTS = 5;
const LEARNERS = 40;
const LATENCY = 50;
const CONCURRENCY = 2;
const BIG = Number(process.env.BENCH_SYNC_BIG ?? 100_000);

// The emulator runs in a child process: in this one its timers would share the pipeline's event loop.
const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "emulator-child.ts")], {
  stdio: ["pipe", "pipe", "inherit"],
  env: {
    ...process.env,
    BENCH_API_KEY: API_KEY,
    BENCH_EMU_SPEC: JSON.stringify([
      { prefix: "b", platforms: PLATFORMS, contexts: CONTEXTS, learners: LEARNERS },
      { prefix: "steps", platforms: 1, contexts: 1, learners: 250 },
    ]),
  },
});
const childLines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
const nextLine = async () => (await childLines.next()).value as string;
const tell = async (cmd: string) => {
  child.stdin!.write(`${cmd}\n`);
  return nextLine();
};
interface ChildTriple {
  prefix: string;
  platformId: string;
  contextId: string;
  resourceLinkId: string;
  lineItemId: string;
  serviceKey: string;
}
const seeded = JSON.parse(await nextLine()) as { url: string; triples: ChildTriple[] };
const pgdb = await freshDatabase("gs_bench_sync");
const baseEnv = {
  NODE_ENV: "test",
  DATABASE_URL: pgdb.url,
  LTIAAS_URL: seeded.url,
  LTIAAS_API_KEY: API_KEY,
  ENCRYPTION_KEYS: "dGVzdC1lbmNyeXB0aW9uLWtleS1vbmUtMzItYnl0ZXM",
  SESSION_SECRET: "bench-session-secret-that-is-long-enough",
  PLATFORM_CONCURRENCY: String(CONCURRENCY),
};
setEnvForTests(parseEnv(baseEnv));
// Migrate through the app's factory, then push through a pool sized for 20 requests in flight.
await (await openDatabase({ driver: "node-postgres", url: pgdb.url }, { migrate: true })).close();
const pool = new pg.Pool({ connectionString: pgdb.url, max: Number(process.env.BENCH_SYNC_POOL ?? 24) });
pool.on("error", () => undefined);
const handle = { db: drizzle({ client: pool, schema }) as unknown as Db, driver: "node-postgres" as const, close: () => pool.end() };
setDbForTests(handle);
const db: Db = handle.db;

// Requests the pipeline sends, counted at the client (the "nothing changed" figure).
let requests = 0;
let firstPostAt = 0;
let lastAnswerAt = 0;
const real = ltiaas();
const counting: LtiaasClient = {
  ...real,
  listLineItems: (...a) => (requests++, real.listLineItems(...a)),
  getLineItem: (...a) => (requests++, real.getLineItem(...a)),
  createLineItem: (...a) => (requests++, real.createLineItem(...a)),
  postScore: async (...a) => {
    requests++;
    firstPostAt ||= performance.now();
    try {
      return await real.postScore(...a);
    } finally {
      lastAnswerAt = performance.now();
    }
  },
};
/** A push of every course, inline, with a fresh platform gate (as a new process would have). */
const pushAll = (o: DepsOverrides = {}) =>
  createDispatcher({ mode: "inline", deps: { ltiaas: counting, gate: new PlatformGate(CONCURRENCY), ...o } }).runHere("push-grades", {}, "bench");

interface Triple {
  platformId: string;
  contextId: string;
  resourceLinkId: string;
  contextRef: string;
  lineItemId: string;
}

async function seed(prefix: string): Promise<Triple[]> {
  const out: Triple[] = [];
  for (const t of seeded.triples.filter((x) => x.prefix === prefix)) {
    const row = async (q: ReturnType<typeof sql>) => ((await db.execute(q)) as unknown as { rows: { id: string }[] }).rows[0].id;
    const pRef = await row(sql`INSERT INTO platforms (platform_id) VALUES (${t.platformId}) ON CONFLICT (platform_id) DO UPDATE SET updated_at = now() RETURNING id`);
    const cRef = await row(sql`INSERT INTO contexts (platform_ref, context_id) VALUES (${pRef}::uuid, ${t.contextId}) RETURNING id`);
    const rlRef = await row(sql`INSERT INTO resource_links (context_ref, resource_link_id, launch_line_item_id) VALUES (${cRef}::uuid, ${t.resourceLinkId}, ${t.lineItemId}) RETURNING id`);
    const sealed = await seal(t.serviceKey, { platformId: t.platformId, contextId: t.contextId, resourceLinkId: t.resourceLinkId });
    await db.execute(sql`INSERT INTO service_keys (resource_link_ref, sealed, key_id, has_ags, has_nrps) VALUES (${rlRef}::uuid, ${sealed.sealed}, ${sealed.keyId}, true, true)`);
    out.push({ platformId: t.platformId, contextId: t.contextId, resourceLinkId: t.resourceLinkId, contextRef: cRef, lineItemId: t.lineItemId });
  }
  return out;
}

async function record(triples: Triple[], learners: number, score: (i: number) => number) {
  const entries = triples.flatMap((t) =>
    Array.from({ length: learners }, (_, i) => ({ platformId: t.platformId, contextId: t.contextId, resourceLinkId: t.resourceLinkId, userId: `u${i}`, scoreGiven: score(i), scoreMaximum: 10 })),
  );
  for (let i = 0; i < entries.length; i += 1000) await recordScores(entries.slice(i, i + 1000), { source: "webhook", db });
}

const fmt = (n: number, d = 2) => n.toFixed(d);
const lines: string[] = [];
const say = (s: string) => {
  lines.push(s);
  console.log(s);
};

// 1. 2,000 pending at 50 ms.
const triples = await seed("b");
await record(triples, LEARNERS, (i) => i % 10);
await tell(`latency ${LATENCY}`);
let t0 = performance.now();
firstPostAt = 0;
const run = await pushAll();
const pushSeconds = (performance.now() - t0) / 1000;
const startMs = firstPostAt - t0;
const tailMs = performance.now() - lastAnswerAt;
const total = PLATFORMS * CONTEXTS * LEARNERS;
const ideal = total / ((PLATFORMS * CONCURRENCY) / (LATENCY / 1000));
say(`[inline] push ${total} pending @ ${LATENCY} ms: ${fmt(pushSeconds)} s (sent ${run.counts.sent}); ideal ${fmt(ideal)} s → efficiency ${fmt(ideal / pushSeconds)} (target ≥ 0.85)`);
const stats = JSON.parse(await tell("stats")) as { inFlightMax: Record<string, number> };
say(`[inline]   of which: first request after ${fmt(startMs, 0)} ms, ${fmt(tailMs, 0)} ms after the last answer (recording, run summary)`);
say(`[inline] in flight max per platform: ${Math.max(...Object.values(stats.inFlightMax))} (limit ${CONCURRENCY})`);

// 2. Naive sequential loop on a sample, same emulator, same latency.
const client = createLtiaasClient({ baseUrl: seeded.url, apiKey: API_KEY });
const sample = seeded.triples.find((x) => x.prefix === "b")!;
const SAMPLE = 40;
t0 = performance.now();
for (let i = 0; i < SAMPLE; i++)
  await client.postScore({ serviceKey: sample.serviceKey }, sample.lineItemId, { userId: `u${i}`, activityProgress: "Completed", gradingProgress: "FullyGraded", scoreGiven: 5, scoreMaximum: 10 });
const naivePer = (performance.now() - t0) / 1000 / SAMPLE;
say(`[naive] sequential loop: ${fmt(naivePer * 1000)} ms per score → ${fmt(naivePer * total)} s for ${total}; pipeline is ${fmt((naivePer * total) / pushSeconds, 1)}× faster`);

// 3. Nothing changed: nothing sent.
await new Promise((r) => setTimeout(r, 1100));
const before = requests;
await pushAll();
say(`[inline] second run, nothing changed: ${requests - before} requests (must be 0)`);

// 4. Steps per context (the same handler Inngest runs), 250 pending in one context.
await tell("latency 0");
const [stepCtx] = await seed("steps");
await record([stepCtx], 250, (i) => i % 10);
let steps = 0;
const stepDeps = await jobDeps("inngest", { ltiaas: counting, gate: new PlatformGate(CONCURRENCY) });
const plain = inlineStep(stepDeps);
const countingStep = { ...plain, run: <T>(id: string, fn: () => Promise<T>) => (steps++, plain.run(id, fn)) };
await executeJob(pushContextJob, { contextRef: stepCtx.contextRef, platformId: stepCtx.platformId, runId: null }, { step: countingStep, deps: stepDeps, trigger: "bench" });
say(`[handler] steps for one context with 250 pending: ${steps} (target ≤ ${Math.ceil(250 / 100) + 3})`);

// 5. Zero latency throughput: every learner's score changes, pushed again.
await new Promise((r) => setTimeout(r, 1100));
await record(triples, LEARNERS, (i) => (i % 10) + 0.5);
t0 = performance.now();
const fast = await pushAll();
const fastSeconds = (performance.now() - t0) / 1000;
say(`[inline, Postgres] zero latency: ${fast.counts.sent} scores in ${fmt(fastSeconds)} s → ${fmt(fast.counts.sent / fastSeconds, 0)} scores/s (target ≥ 1,000/s)`);
child.kill();

// 6. Peak RSS with BIG pending, streamed in chunks. The LMS here is a stateless sink in another
// process, so the figure is the pipeline's memory alone (the emulator keeps every score it accepts).
if (BIG > 0) {
  const sink = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "sink-lms.ts")], { stdio: ["ignore", "pipe", "inherit"] });
  const sinkUrl = await new Promise<string>((resolve) => sink.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim())));
  setEnvForTests(parseEnv({ ...baseEnv, LTIAAS_URL: sinkUrl }));
  const perContext = Math.ceil(BIG / (PLATFORMS * CONTEXTS));
  for (let p = 0; p < PLATFORMS; p++)
    for (let c = 0; c < CONTEXTS; c++) {
      const platformId = `big-p${p}`;
      const contextId = `big-c${c}`;
      const row = async (q: ReturnType<typeof sql>) => ((await db.execute(q)) as unknown as { rows: { id: string }[] }).rows[0].id;
      const pRef = await row(sql`INSERT INTO platforms (platform_id) VALUES (${platformId}) ON CONFLICT (platform_id) DO UPDATE SET updated_at = now() RETURNING id`);
      const cRef = await row(sql`INSERT INTO contexts (platform_ref, context_id) VALUES (${pRef}::uuid, ${contextId}) RETURNING id`);
      const rlRef = await row(sql`INSERT INTO resource_links (context_ref, resource_link_id, launch_line_item_id)
        VALUES (${cRef}::uuid, 'rl', ${`${sinkUrl}/lineitems/${p}-${c}`}) RETURNING id`);
      const sealed = await seal(`sink-key-${p}-${c}`, { platformId, contextId, resourceLinkId: "rl" });
      await db.execute(sql`INSERT INTO service_keys (resource_link_ref, sealed, key_id, has_ags, has_nrps) VALUES (${rlRef}::uuid, ${sealed.sealed}, ${sealed.keyId}, true, true)`);
      // Rows inserted straight into the ledger (recording is measured above): only the push is under test.
      await db.execute(sql`INSERT INTO grade_rows (resource_link_ref, context_ref, platform_ref, user_id, score_given, score_maximum,
          activity_progress, grading_progress, graded_at, source, pending_since)
        SELECT ${rlRef}::uuid, ${cRef}::uuid, ${pRef}::uuid, 'u' || g, (g % 10)::float8, 10, 'Completed', 'FullyGraded', now(), 'backfill', now()
        FROM generate_series(0, ${perContext - 1}::int) g`);
    }
  global.gc?.();
  const baseRss = process.memoryUsage().rss / 2 ** 20;
  let peak = baseRss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss / 2 ** 20)), 50);
  t0 = performance.now();
  const big = await pushAll({ ltiaas: ltiaas() });
  clearInterval(sampler);
  sink.kill();
  const bigSeconds = (performance.now() - t0) / 1000;
  say(`[inline, Postgres] ${big.counts.sent} pending pushed in ${fmt(bigSeconds, 1)} s (${fmt(big.counts.sent / bigSeconds, 0)}/s, ${PLATFORMS * CONCURRENCY} in flight, zero-latency sink); peak RSS ${fmt(peak, 0)} MB (at start ${fmt(baseRss, 0)} MB; target ≤ 512 MB)`);
}

await handle.close();
await pgdb.drop();
console.log("\nsummary:\n" + lines.join("\n"));
process.exit(0);
