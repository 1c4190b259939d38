/**
 * Shared bits of the benchmarks: statistics, the machine's load, a fresh Postgres database (dropped
 * at the end, also on Ctrl-C), a pool that counts statements, the emulator and the stateless sink in
 * child processes, and a one-line refusal when a bench cannot start.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { sql } from "drizzle-orm";
import pg from "pg";
import type { Db } from "../../lib/db/client";
import { rowsOf } from "../../lib/db/rows";
import { seal } from "../../lib/crypto/seal";

export const BENCH_PG = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function summary(values: number[]): { median: number; p95: number; mean: number } {
  const s = [...values].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), p95: quantile(s, 0.95), mean: s.reduce((a, b) => a + b, 0) / (s.length || 1) };
}

export const ms = (n: number) => `${n.toFixed(2)} ms`;

/** The machine's load averages (1, 5, 15 min), as `uptime` prints them: other work shares the cores. */
export function load(): string {
  try {
    return `load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`;
  } catch {
    return "load ?";
  }
}

/** Says in one line why the bench cannot start, and ends it. */
export function cannotStart(bench: string, why: unknown): never {
  const reason = why instanceof Error ? why.message : String(why);
  console.error(`bench ${bench} cannot start: ${reason.split("\n")[0]}`);
  process.exit(1);
}

/** Cleanups run once, at the end or on Ctrl-C / SIGTERM (then the process exits 130 / 143). */
const cleanups: (() => Promise<void> | void)[] = [];
let cleaning: Promise<void> | undefined;
export function onExit(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  })();
  return cleaning;
}
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const)
  process.once(signal, () => void cleanup().finally(() => process.exit(code)));

/**
 * A new empty database on the bench Postgres, dropped by drop() or when the process is stopped.
 * Ends the bench with one line when Postgres cannot be reached.
 */
export async function freshDatabase(name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = new pg.Client({ connectionString: BENCH_PG, connectionTimeoutMillis: 5_000 });
  admin.on("error", () => undefined);
  const db = `${name}_${process.pid}`;
  try {
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${db}`);
  } catch (error) {
    cannotStart(name, `Postgres at ${new URL(BENCH_PG).host} (BENCH_DATABASE_URL): ${(error as Error).message || String(error)}`);
  }
  const url = new URL(BENCH_PG);
  url.pathname = `/${db}`;
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  };
  onExit(drop);
  return { url: url.toString(), drop };
}

/** A node-postgres pool that counts the statements it sends (BEGIN and COMMIT included). */
export function countingPool(url: string, max: number): { pool: pg.Pool; statements(): number } {
  let n = 0;
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on("error", () => undefined);
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => (n++, query(...a));
  });
  return { pool, statements: () => n };
}

function child(file: string, env: Record<string, string> = {}): ChildProcess {
  const c = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, file)], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  onExit(() => void c.kill());
  return c;
}

/** The stateless LMS stand-in (sink-lms.ts) in its own process: its base URL, and stop(). */
export async function startSink(): Promise<{ url: string; stop(): void }> {
  const c = child("sink-lms.ts");
  const url = await new Promise<string>((resolve, reject) => {
    c.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim()));
    c.once("exit", (code) => reject(new Error(`the sink exited (${code})`)));
  });
  return { url, stop: () => void c.kill() };
}

export interface EmuSeed {
  prefix: string;
  platforms: number;
  contexts: number;
  learners: number;
  productFamilyCode?: string;
}
export interface EmuTriple {
  prefix: string;
  platformId: string;
  contextId: string;
  resourceLinkId: string;
  lineItemId: string;
  serviceKey: string;
}

/**
 * The emulator in its own process (emulator-child.ts: it does not share the pipeline's event loop, as
 * a real LMS would not), seeded with `seeds`; `tell` sends one command and answers its one line.
 */
export async function startEmulatorChild(apiKey: string, seeds: EmuSeed[]): Promise<{ url: string; triples: EmuTriple[]; tell(cmd: string): Promise<string>; stop(): void }> {
  const c = child("emulator-child.ts", { BENCH_API_KEY: apiKey, BENCH_EMU_SPEC: JSON.stringify(seeds) });
  const lines = createInterface({ input: c.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error("the emulator child exited");
    return r.value as string;
  };
  const first = JSON.parse(await next()) as { url: string; triples: EmuTriple[] };
  let queue = Promise.resolve("");
  const tell = (cmd: string) =>
    (queue = queue.then(async () => {
      c.stdin!.write(`${cmd}\n`);
      const answer = await next();
      if (answer.startsWith("error ")) throw new Error(`emulator: ${answer.slice(6)}`);
      return answer;
    }));
  return { ...first, tell, stop: () => void c.kill() };
}

/** Resident set size of a process and its children (next start forks a worker), in MB. */
export function rssMb(pid: number): number {
  const pids = [pid, ...childPids(pid)];
  let kb = 0;
  for (const p of pids) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      if (m) kb += Number(m[1]);
    } catch {
      /* exited */
    }
  }
  return kb / 1024;
}

function childPids(pid: number): number[] {
  try {
    const direct = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    return direct.flatMap((c) => [c, ...childPids(c)]);
  } catch {
    return [];
  }
}

/**
 * One course in the ledger, as a launch would leave it: platform, context, resource link with its
 * launch line item, and the sealed service key. Answers the rows' ids.
 */
export async function seedLink(
  db: Db,
  t: { platformId: string; contextId: string; resourceLinkId: string; lineItemId: string; serviceKey: string },
): Promise<{ platformRef: string; contextRef: string; linkRef: string }> {
  const id = async (q: ReturnType<typeof sql>) => (await rowsOf<{ id: string }>(db, q))[0].id;
  const platformRef = await id(sql`INSERT INTO platforms (platform_id) VALUES (${t.platformId}) ON CONFLICT (platform_id) DO UPDATE SET updated_at = now() RETURNING id`);
  const contextRef = await id(sql`INSERT INTO contexts (platform_ref, context_id) VALUES (${platformRef}::uuid, ${t.contextId}) RETURNING id`);
  const linkRef = await id(
    sql`INSERT INTO resource_links (context_ref, resource_link_id, launch_line_item_id) VALUES (${contextRef}::uuid, ${t.resourceLinkId}, ${t.lineItemId}) RETURNING id`,
  );
  const sealed = await seal(t.serviceKey, { platformId: t.platformId, contextId: t.contextId, resourceLinkId: t.resourceLinkId });
  await db.execute(sql`INSERT INTO service_keys (resource_link_ref, sealed, key_id, has_ags, has_nrps) VALUES (${linkRef}::uuid, ${sealed.sealed}, ${sealed.keyId}, true, true)`);
  return { platformRef, contextRef, linkRef };
}

/**
 * `count` pending rows for one link straight into the ledger (recording is not what is measured),
 * users u0…u{count-1}, with generate_series: a million rows take seconds.
 */
export async function seedPending(db: Db, refs: { platformRef: string; contextRef: string; linkRef: string }, count: number): Promise<void> {
  await db.execute(sql`INSERT INTO grade_rows (resource_link_ref, context_ref, platform_ref, user_id, score_given, score_maximum,
      activity_progress, grading_progress, graded_at, submitted_at, source, pending_since)
    SELECT ${refs.linkRef}::uuid, ${refs.contextRef}::uuid, ${refs.platformRef}::uuid, 'u' || g, (g % 10)::float8, 10, 'Completed', 'FullyGraded',
      now(), now(), 'backfill', now()
    FROM generate_series(0, ${count - 1}::int) g`);
}

/**
 * Runs fn; with BENCH_CPU_PROF=dir set, under the CPU profiler, written to dir/<name>.cpuprofile
 * (open it in Chrome's DevTools, or summarise it: `npx tsx test/bench/profile-summary.ts FILE`).
 */
export async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return fn();
  const { Session } = await import("node:inspector/promises");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  await session.post("Profiler.start");
  try {
    return await fn();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}
