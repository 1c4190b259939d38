/**
 * Issue 10's sync figures, through the INLINE engine (what runs here: no Inngest server), each a ratio
 * of two things measured side by side in this run, each printed with the machine's load (other work
 * shares these cores). The LMS is the emulator or a stateless sink, each in its own process:
 *  own     zero latency, Postgres: the engine's scores/s ÷ a bare loop of the same HTTP client (undici
 *          Pool, the client's settings) posting the same bodies, as many in flight, to the same sink
 *          (target ≥ 0.6); statements per score (counted at the pool) and Inngest steps per score.
 *  pg50    10 platforms × 5 contexts × 40 learners = 2,000 at 50 ms: efficiency vs the ideal
 *          2000 ÷ (10 × 2 ÷ 0.05 s) (target ≥ 0.9); a second push with nothing changed sends nothing.
 *  pglite  the same on the embedded PGlite (target ≥ 0.8).
 *  wide    100 platforms × 10 contexts × 20 learners = 20,000 at 250 ms, ceiling 2 (target ≥ 0.9).
 *  canvas  one Canvas platform, ceiling 8, the bucket's defaults with a request cost at which 4 in
 *          flight are sustainable, starting as full as 4 in flight keep it: scores/s ÷ the bucket's
 *          sustainable rate (target ≥ 0.9, ≤ 1% refused), paced with and without the rate headers,
 *          beside a fixed window of 2 and of 8.
 *  big     BENCH_SYNC_BIG (default 1,000,000) pending on Postgres to the sink: peak RSS (target ≤ 256
 *          MB) and the rate over the last tenth ÷ the first tenth (target within 1.2×).
 *
 *   npm run bench sync                        (all parts; BENCH_SYNC_PARTS=own,pg50,… for some)
 *   BENCH_SYNC_BIG=100000 npm run bench sync  (a smaller big part)
 *   BENCH_CPU_PROF=/tmp/prof npm run bench sync   (each push under the CPU profiler; see profile-summary.ts)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import { Pool } from "undici";
import * as schema from "../../lib/db/schema";
import { openDatabase, setDbForTests, type Db, type DbHandle } from "../../lib/db/client";
import { parseEnv, setEnvForTests } from "../../lib/env";
import { canvasCostForInFlight, CANVAS_BUCKET_DEFAULTS } from "../../lib/emulator/throttle";
import { recordScores } from "../../lib/grades/record";
import { agsScore } from "../../lib/grades/score";
import { PlatformGate } from "../../lib/ltiaas/gate";
import { DEFAULT_CONNECTIONS } from "../../lib/ltiaas/transport";
import { jobDeps, type DepsOverrides } from "../../lib/jobs/deps";
import { pushContextJob } from "../../lib/jobs/definitions/push-context";
import { createDispatcher } from "../../lib/jobs/dispatch";
import { executeJob } from "../../lib/jobs/execute";
import { inlineStep } from "../../lib/jobs/inline";
import { createLtiaasClient, serviceKeyHeader, type LtiaasClient } from "../../lib/ltiaas";
import { cleanup, countingPool, profiled, freshDatabase, load, onExit, seedLink, seedPending, startEmulatorChild, startSink, type EmuTriple } from "./support";

process.env.GRADESYNC_LOG ??= "silent";
const API_KEY = "bench-api-key";
const CONCURRENCY = 2;
const PARTS = new Set((process.env.BENCH_SYNC_PARTS ?? "own,pg50,pglite,wide,canvas,big").split(",").map((s) => s.trim()));
const OWN_LEARNERS = Number(process.env.BENCH_SYNC_OWN_LEARNERS ?? 200);
const BIG = Number(process.env.BENCH_SYNC_BIG ?? 1_000_000);
const CANVAS_SCORES = Number(process.env.BENCH_CANVAS_SCORES ?? 2_000);
const CANVAS_LATENCY = 50;
const CANVAS_CEILING = 8;
const CANVAS_SUSTAINABLE_IN_FLIGHT = 4;

const lines: string[] = [];
/** A figure, with the machine's load beside it. */
const say = (s: string) => {
  const line = `${s}   [${load()}]`;
  lines.push(line);
  console.log(line);
};
const fmt = (n: number, d = 2) => n.toFixed(d);
const seconds = (t0: number) => (performance.now() - t0) / 1000;

// The big part runs in a process of its own (below), so its RSS is the engine's alone.
const IS_BIG_CHILD = process.env.BENCH_SYNC_CHILD === "big";
const EMU_PARTS = ["pg50", "pglite", "wide", "canvas"].filter((p) => PARTS.has(p) && !IS_BIG_CHILD);
// The LMS: the emulator in a child process, seeded for every part that talks to it.
const emu = EMU_PARTS.length
  ? await startEmulatorChild(API_KEY, [
      { prefix: "b", platforms: 10, contexts: 5, learners: 40 },
      { prefix: "bare-b", platforms: 10, contexts: 5, learners: 40 },
      { prefix: "bl", platforms: 10, contexts: 5, learners: 40 },
      { prefix: "steps", platforms: 1, contexts: 1, learners: 200 },
      ...(PARTS.has("wide")
        ? [
            { prefix: "w", platforms: 100, contexts: 10, learners: 20 },
            { prefix: "bare-w", platforms: 100, contexts: 10, learners: 20 },
          ]
        : []),
      ...(PARTS.has("canvas") ? [{ prefix: "cv", platforms: 1, contexts: 4, learners: Math.ceil(CANVAS_SCORES / 4), productFamilyCode: "canvas" }] : []),
    ])
  : { url: "http://127.0.0.1:9", triples: [] as EmuTriple[], tell: async () => "{}", stop: () => undefined };
const sink = await startSink();

const pgdb = await freshDatabase("gs_bench_sync");
const baseEnv = {
  NODE_ENV: "test",
  DATABASE_URL: pgdb.url,
  LTIAAS_URL: emu.url,
  LTIAAS_API_KEY: API_KEY,
  ENCRYPTION_KEYS: "dGVzdC1lbmNyeXB0aW9uLWtleS1vbmUtMzItYnl0ZXM",
  SESSION_SECRET: "bench-session-secret-that-is-long-enough",
  PLATFORM_CONCURRENCY: String(CONCURRENCY),
};
setEnvForTests(parseEnv(baseEnv));
await (await openDatabase({ driver: "node-postgres", url: pgdb.url }, { migrate: true })).close();
const counted = countingPool(pgdb.url, Number(process.env.BENCH_SYNC_POOL ?? 24));
const pgHandle: DbHandle = { db: drizzle({ client: counted.pool, schema }) as unknown as Db, driver: "node-postgres", close: () => counted.pool.end() };
onExit(() => counted.pool.end());
setDbForTests(pgHandle);
let db: Db = pgHandle.db;

/** The LTIAAS client, counting what it sends and when score answers come back. */
class Counting {
  requests = 0;
  posts = 0;
  /** Times (ms) at which every `every`-th score answer came back. */
  marks: number[] = [];
  every = 0;
  /** When the first score post left and the last answer came back (ms). */
  firstAt = 0;
  lastAt = 0;
  readonly client: LtiaasClient;
  constructor(real: LtiaasClient) {
    const count =
      <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
      (...a: A) => (this.requests++, fn(...a));
    this.client = {
      ...real,
      listLineItems: count(real.listLineItems),
      getLineItem: count(real.getLineItem),
      createLineItem: count(real.createLineItem),
      listLineItemsPage: count(real.listLineItemsPage),
      listScores: count(real.listScores),
      listResultsPage: count(real.listResultsPage),
      postScore: async (...a) => {
        this.requests++;
        this.firstAt ||= performance.now();
        try {
          return await real.postScore(...a);
        } finally {
          this.lastAt = performance.now();
          if (++this.posts % this.every === 0 && this.every) this.marks.push(performance.now());
        }
      },
    };
  }
}
const toEmu = new Counting(createLtiaasClient({ baseUrl: emu.url, apiKey: API_KEY }));
const toSink = new Counting(createLtiaasClient({ baseUrl: sink.url, apiKey: API_KEY }));

/** A push of the given contexts, inline, with a fresh platform gate (as a new process would have). */
const push = (contextRefs: string[], o: DepsOverrides = {}) =>
  createDispatcher({ mode: "inline", deps: { ltiaas: toEmu.client, gate: new PlatformGate(CONCURRENCY), db, ...o } }).runHere(
    "push-grades",
    { contextRefs },
    "bench",
  );

interface Seeded extends EmuTriple {
  contextRef: string;
  platformRef: string;
  linkRef: string;
}
async function seed(prefix: string): Promise<Seeded[]> {
  const out: Seeded[] = [];
  for (const t of emu.triples.filter((x) => x.prefix === prefix)) out.push({ ...t, ...(await seedLink(db, t)) });
  return out;
}
/** Every learner of every course records a score (through recordScores, as the webhook does). */
async function record(triples: Seeded[], learners: number, score: (i: number) => number) {
  const entries = triples.flatMap((t) =>
    Array.from({ length: learners }, (_, i) => ({ platformId: t.platformId, contextId: t.contextId, resourceLinkId: t.resourceLinkId, userId: `u${i}`, scoreGiven: score(i), scoreMaximum: 10 })),
  );
  for (let i = 0; i < entries.length; i += 1000) await recordScores(entries.slice(i, i + 1000), { source: "webhook", db });
  // A row sent less than a second ago waits a second (the spacing rule): let every one be due.
  await new Promise((r) => setTimeout(r, 1100));
}
const contextsOf = (ts: Seeded[]) => [...new Set(ts.map((t) => t.contextRef))];
const maxInFlight = async (prefix: string) => {
  const s = JSON.parse(await emu.tell("stats")) as { inFlightMax: Record<string, number> };
  return Math.max(0, ...Object.entries(s.inFlightMax).filter(([p]) => p.startsWith(`${prefix}-`)).map(([, n]) => n));
};

/**
 * The same requests without the engine: the client posting each course's scores straight to the
 * emulator (courses of their own, so the engine's read-back is not disturbed), `perPlatform` in
 * flight per platform as the gate allows. What this machine, this emulator and this latency let any
 * sender reach: the engine's time is printed beside it.
 */
async function bareToEmulator(prefix: string, learners: number, perPlatform: number): Promise<number> {
  const client = createLtiaasClient({ baseUrl: emu.url, apiKey: API_KEY });
  const byPlatform = new Map<string, EmuTriple[]>();
  for (const t of emu.triples.filter((x) => x.prefix === prefix)) byPlatform.set(t.platformId, [...(byPlatform.get(t.platformId) ?? []), t]);
  const submittedAt = new Date();
  const t0 = performance.now();
  await Promise.all(
    [...byPlatform.values()].map(async (ts) => {
      const jobs = ts.flatMap((t) => Array.from({ length: learners }, (_, i) => ({ t, i })));
      await Promise.all(
        Array.from({ length: perPlatform }, async () => {
          for (let j = jobs.shift(); j; j = jobs.shift()) {
            const score = agsScore(`u${j.i}`, { scoreGiven: j.i % 10, scoreMaximum: 10, comment: null, activityProgress: "Completed", gradingProgress: "FullyGraded" }, { submittedAt, startedAt: null });
            await client.postScore({ serviceKey: j.t.serviceKey }, j.t.lineItemId, score);
          }
        }),
      );
    }),
  );
  return seconds(t0);
}

/** Inngest steps for one context's push (the handler Inngest runs, every step.* call counted). */
async function stepsFor(t: Seeded): Promise<number> {
  let steps = 0;
  const deps = await jobDeps("inngest", { ltiaas: toEmu.client, gate: new PlatformGate(CONCURRENCY), db });
  const plain = inlineStep(deps);
  const step = {
    run: <T>(id: string, fn: () => Promise<T>) => (steps++, plain.run(id, fn)),
    sleep: (id: string, ms: number) => (steps++, plain.sleep(id, ms)),
    sendEvent: (id: string, e: Parameters<typeof plain.sendEvent>[1]) => (steps++, plain.sendEvent(id, e)),
  };
  await executeJob(pushContextJob, { contextRef: t.contextRef, platformId: t.platformId, runId: null }, { step, deps, trigger: "bench" });
  return steps;
}

// ---------- own: the engine beside a bare loop of its HTTP client, zero latency, one sink ----------
if (PARTS.has("own") && !IS_BIG_CHILD) {
  const PLATFORMS = 10;
  const CONTEXTS = 5;
  const links: { t: Seeded; lineItemId: string; serviceKey: string }[] = [];
  for (let p = 0; p < PLATFORMS; p++)
    for (let c = 0; c < CONTEXTS; c++) {
      const t = { prefix: "own", platformId: `own-p${p}`, contextId: `own-c${c}`, resourceLinkId: "rl", lineItemId: `${sink.url}/lineitems/${p}-${c}`, serviceKey: `eyJ${"k".repeat(400)}-${p}-${c}` };
      const refs = await seedLink(db, t);
      await seedPending(db, refs, OWN_LEARNERS);
      links.push({ t: { ...t, ...refs }, lineItemId: t.lineItemId, serviceKey: t.serviceKey });
    }
  const total = PLATFORMS * CONTEXTS * OWN_LEARNERS;
  const inFlight = PLATFORMS * CONCURRENCY;

  // The bare loop: the client's HTTP library with its settings (a keep-alive Pool per origin), the
  // engine's headers and bodies (the AGS score of each row), as many in flight as the engine has.
  const origin = new URL(sink.url).origin;
  const submittedAt = new Date();
  const bodies = links.flatMap((l) =>
    Array.from({ length: OWN_LEARNERS }, (_, i) => ({
      path: `/api/lineitems/${encodeURIComponent(l.lineItemId)}/scores`,
      authorization: serviceKeyHeader(API_KEY, l.serviceKey),
      score: agsScore(`u${i}`, { scoreGiven: i % 10, scoreMaximum: 10, comment: null, activityProgress: "Completed", gradingProgress: "FullyGraded" }, { submittedAt, startedAt: null }),
    })),
  );
  const bareLoop = async (): Promise<number> => {
    const pool = new Pool(origin, { connections: DEFAULT_CONNECTIONS, keepAliveTimeout: 10_000, pipelining: 1 });
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (let i = next++; i < bodies.length; i = next++) {
          const b = bodies[i];
          const res = await pool.request({
            path: b.path,
            method: "POST",
            headers: { authorization: b.authorization, accept: "application/json", "content-type": "application/json" },
            body: JSON.stringify(b.score),
          });
          await res.body.text();
          if (res.statusCode !== 204) throw new Error(`sink answered ${res.statusCode}`);
        }
      }),
    );
    const rate = bodies.length / seconds(t0);
    await pool.close();
    return rate;
  };
  await bareLoop(); // warm-up: JIT, sockets
  const bareBefore = await bareLoop();
  const statementsBefore = counted.statements();
  const t0 = performance.now();
  const run = await profiled("sync-own", () => push(contextsOf(links.map((l) => l.t)), { ltiaas: toSink.client }));
  const engineSeconds = seconds(t0);
  const statements = counted.statements() - statementsBefore;
  const bareAfter = await bareLoop();
  const bare = (bareBefore + bareAfter) / 2;
  const engine = run.counts.sent / engineSeconds;
  say(
    `[own] zero latency, Postgres, ${inFlight} in flight, one sink: engine ${fmt(engine, 0)} scores/s (${run.counts.sent} of ${total} sent in ${fmt(engineSeconds)} s) ÷ bare undici loop ${fmt(bare, 0)}/s (before ${fmt(bareBefore, 0)}, after ${fmt(bareAfter, 0)}) = ${fmt(engine / bare)} (target ≥ 0.6)`,
  );
  say(`[own] statements per score: ${fmt(statements / run.counts.sent, 3)} (${statements} for ${run.counts.sent}, BEGIN/COMMIT included)`);
}

// ---------- pg50: 2,000 pending at 50 ms on Postgres, and steps per score ----------
async function fifty(prefix: string, label: string, target: number) {
  const triples = await seed(prefix);
  await record(triples, 40, (i) => i % 10);
  await emu.tell("latency 50");
  const statementsBefore = counted.statements();
  toEmu.firstAt = 0;
  const t0 = performance.now();
  const run = await profiled(`sync-${label}`, () => push(contextsOf(triples)));
  const took = seconds(t0);
  const statements = counted.statements() - statementsBefore;
  const total = triples.length * 40;
  const ideal = total / ((10 * CONCURRENCY) / 0.05);
  say(`[${label}] ${total} pending @ 50 ms, 10 platforms × ceiling ${CONCURRENCY}: ${fmt(took)} s (sent ${run.counts.sent}); ideal ${fmt(ideal)} s → efficiency ${fmt(ideal / took)} (target ≥ ${target}); most in flight per platform ${await maxInFlight(prefix)}`);
  const edges = `first score left after ${fmt(toEmu.firstAt - t0, 0)} ms, the run ended ${fmt(t0 + took * 1000 - toEmu.lastAt, 0)} ms after the last answer`;
  const bare = await bareToEmulator("bare-b", 40, CONCURRENCY);
  say(`[${label}]   beside the same 2,000 posted by a bare loop of the client to the same emulator, 2 per platform: ${fmt(bare)} s → engine ÷ bare ${fmt(bare / took)}; ${edges}`);
  if (label === "pg50") say(`[pg50] statements per score: ${fmt(statements / run.counts.sent, 3)} (${statements} for ${run.counts.sent})`);
  const before = toEmu.requests;
  await new Promise((r) => setTimeout(r, 1100));
  await push(contextsOf(triples));
  say(`[${label}] second push, nothing changed: ${toEmu.requests - before} requests (must be 0)`);
  await emu.tell("latency 0");
}
if (PARTS.has("pg50") && !IS_BIG_CHILD) {
  await fifty("b", "pg50", 0.9);
  const [one] = await seed("steps");
  await record([one], 200, (i) => i % 10);
  const steps = await stepsFor(one);
  say(`[steps] Inngest steps for one context of 200 pending: ${steps} → ${fmt(steps / 200, 3)} per score (+4 per push-grades run: prune, abandon, list, fan-out)`);
}

// ---------- wide: 100 platforms × 10 contexts × 20 learners at 250 ms ----------
if (PARTS.has("wide") && !IS_BIG_CHILD) {
  const triples = await seed("w");
  await record(triples, 20, (i) => i % 10);
  await emu.tell("latency 250");
  toEmu.firstAt = 0;
  const t0 = performance.now();
  const run = await profiled("sync-wide", () => push(contextsOf(triples)));
  const took = seconds(t0);
  const total = triples.length * 20;
  const ideal = total / ((100 * CONCURRENCY) / 0.25);
  say(`[wide] ${total} pending @ 250 ms, 100 platforms × ceiling ${CONCURRENCY}: ${fmt(took)} s (sent ${run.counts.sent}); ideal ${fmt(ideal)} s → efficiency ${fmt(ideal / took)} (target ≥ 0.9); most in flight per platform ${await maxInFlight("w")}`);
  const edges = `first score left after ${fmt(toEmu.firstAt - t0, 0)} ms, the run ended ${fmt(t0 + took * 1000 - toEmu.lastAt, 0)} ms after the last answer`;
  const bare = await bareToEmulator("bare-w", 20, CONCURRENCY);
  say(`[wide]   beside the same 20,000 posted by a bare loop of the client to the same emulator, 2 per platform: ${fmt(bare)} s → engine ÷ bare ${fmt(bare / took)}; ${edges}`);
  await emu.tell("latency 0");
}

// ---------- canvas: pacing against Canvas's bucket ----------
if (PARTS.has("canvas") && !IS_BIG_CHILD) {
  const triples = await seed("cv");
  const learners = Math.ceil(CANVAS_SCORES / triples.length);
  const platformId = triples[0].platformId;
  const cost = canvasCostForInFlight(CANVAS_SUSTAINABLE_IN_FLIGHT, CANVAS_LATENCY);
  const sustainable = CANVAS_BUCKET_DEFAULTS.outflowPerSecond / cost;
  // As full as 4 in flight keep it: their reservations and a fifth's reach the high-water mark. An
  // empty bucket would let any client run above the sustainable rate for its first seconds.
  const startLevel = CANVAS_BUCKET_DEFAULTS.highWaterMark - (CANVAS_SUSTAINABLE_IN_FLIGHT + 1) * CANVAS_BUCKET_DEFAULTS.upFrontCost;
  await emu.tell(`latency ${CANVAS_LATENCY}`);
  let round = 0;
  const variant = async (label: string, gate: PlatformGate, relayHeaders: boolean) => {
    await record(triples, learners, (i) => (i % 10) + ++round / 100);
    // Each variant starts as a new process would on a platform never paced.
    await db.execute(sql`UPDATE platforms SET pacing_window = NULL WHERE platform_id = ${platformId}`);
    await emu.tell(`throttle ${JSON.stringify({ platformId, mode: "canvas", requestCost: cost, startLevel, relayHeaders })}`);
    const requestsBefore = toEmu.requests;
    const t0 = performance.now();
    const run = await push(contextsOf(triples), { gate });
    const took = seconds(t0);
    const status = (JSON.parse(await emu.tell("throttle-status")) as Record<string, { refused: number }>)[platformId];
    const requests = toEmu.requests - requestsBefore;
    const rate = run.counts.sent / took;
    say(
      `[canvas] ${label.padEnd(34)} ${fmt(rate, 1)} scores/s ÷ sustainable ${fmt(sustainable, 0)}/s = ${fmt(rate / sustainable)}; refused ${status.refused} of ${requests} requests (${fmt((100 * status.refused) / Math.max(1, requests), 1)}%); sent ${run.counts.sent} of ${triples.length * learners} in ${fmt(took, 1)} s, window at the end ${gate.window(platformId)}`,
    );
    return { ratio: rate / sustainable, refused: status.refused / Math.max(1, requests) };
  };
  say(`[canvas] bucket: high-water ${CANVAS_BUCKET_DEFAULTS.highWaterMark}, drain ${CANVAS_BUCKET_DEFAULTS.outflowPerSecond}/s, reservation ${CANVAS_BUCKET_DEFAULTS.upFrontCost}, cost ${fmt(cost, 3)} per request (4 in flight at ${CANVAS_LATENCY} ms sustainable), starting at ${startLevel}; targets: ratio ≥ 0.9, ≤ 1% refused`);
  await variant("paced, ceiling 8, rate headers", new PlatformGate(CANVAS_CEILING), true);
  await variant("paced, ceiling 8, statuses only", new PlatformGate(CANVAS_CEILING), false);
  await variant("fixed window 2 (pacing off)", new PlatformGate(2, { fixed: true }), true);
  await variant("fixed window 8 (pacing off)", new PlatformGate(8, { fixed: true }), true);
  await emu.tell(`throttle ${JSON.stringify({ platformId, mode: "none" })}`);
  await emu.tell("latency 0");
}

// ---------- pglite: the 2,000 at 50 ms on the embedded database ----------
if (PARTS.has("pglite") && !IS_BIG_CHILD) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gs-bench-pglite-"));
  onExit(() => rmSync(dir, { recursive: true, force: true }));
  const lite = await openDatabase({ driver: "pglite", dir: path.join(dir, "data") }, { migrate: true });
  setDbForTests(lite);
  db = lite.db;
  await fifty("bl", "pglite", 0.8);
  await lite.close();
  setDbForTests(pgHandle);
  db = pgHandle.db;
}
emu.stop();

// ---------- big: a million pending on Postgres, to the sink, in a process of its own ----------
if (PARTS.has("big") && BIG > 0 && !IS_BIG_CHILD) {
  const child = spawn(process.execPath, ["--import", "tsx", import.meta.filename], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, BENCH_SYNC_CHILD: "big" },
  });
  onExit(() => void child.kill());
  let inSummary = false;
  for await (const line of createInterface({ input: child.stdout! })) {
    inSummary ||= line.startsWith("summary:");
    if (line.startsWith("[big]") && !inSummary) {
      console.log(line);
      if (!line.startsWith("[big] seeded")) lines.push(line);
    }
  }
}
if (IS_BIG_CHILD) {
  const PLATFORMS = 10;
  const CONTEXTS = 5;
  const perLink = Math.ceil(BIG / (PLATFORMS * CONTEXTS));
  const t0 = performance.now();
  const refs: string[] = [];
  for (let p = 0; p < PLATFORMS; p++)
    for (let c = 0; c < CONTEXTS; c++) {
      const r = await seedLink(db, { platformId: `big-p${p}`, contextId: `big-c${c}`, resourceLinkId: "rl", lineItemId: `${sink.url}/lineitems/big-${p}-${c}`, serviceKey: `sink-key-${p}-${c}` });
      await seedPending(db, r, perLink);
      refs.push(r.contextRef);
    }
  console.log(`[big] seeded ${perLink * refs.length} pending in ${fmt(seconds(t0), 1)} s`);
  global.gc?.();
  const baseRss = process.memoryUsage().rss / 2 ** 20;
  let peak = baseRss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss / 2 ** 20)), 100);
  const total = perLink * refs.length;
  toSink.every = Math.max(1, Math.floor(total / 10));
  toSink.marks = [];
  toSink.posts = 0;
  const t1 = performance.now();
  const run = await profiled("sync-big", () => push(refs, { ltiaas: toSink.client }));
  const took = seconds(t1);
  clearInterval(sampler);
  const m = toSink.marks;
  const first = m.length >= 1 ? toSink.every / ((m[0] - t1) / 1000) : NaN;
  const last = m.length >= 10 ? toSink.every / ((m[9] - m[8]) / 1000) : NaN;
  say(
    `[big] ${run.counts.sent} pending pushed in ${fmt(took, 1)} s (${fmt(run.counts.sent / took, 0)}/s, ${PLATFORMS * CONCURRENCY} in flight, zero-latency sink); peak RSS ${fmt(peak, 0)} MB (at start ${fmt(baseRss, 0)}; target ≤ 256 MB); first tenth ${fmt(first, 0)}/s, last tenth ${fmt(last, 0)}/s → first ÷ last ${fmt(first / last)} (target ≤ 1.2)`,
  );
}

sink.stop();
await cleanup();
console.log("\nsummary:\n" + lines.join("\n"));
process.exit(0);
