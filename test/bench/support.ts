/** Shared bits of the benchmarks: statistics, a fresh Postgres database, RSS of a process. */
import { readFileSync } from "node:fs";
import pg from "pg";

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

/** A reason a bench cannot start, said in one line by the runner (no stack trace): no Postgres, no build. */
export class BenchSetupError extends Error {
  name = "BenchSetupError";
}

/** The bench Postgres URL with any password hidden, for messages. */
export function shownUrl(url: string = BENCH_PG): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(BENCH_DATABASE_URL is not a URL)";
  }
}

/** Connects to the bench Postgres, or says in one line why it cannot. */
export async function benchAdmin(): Promise<pg.Client> {
  const admin = new pg.Client({ connectionString: BENCH_PG, connectionTimeoutMillis: 5_000 });
  admin.on("error", () => undefined);
  try {
    await admin.connect();
    return admin;
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new BenchSetupError(
      `Cannot reach the benchmark Postgres at ${shownUrl()} (${why}): start Postgres, or set BENCH_DATABASE_URL=postgres://user@host:port/db (a role that may create databases).`,
    );
  }
}

/** Databases this process created and has not dropped yet: an interrupted bench drops them on its way out. */
const created = new Set<string>();

/** A new empty database on the bench Postgres; drop() removes it. Named <name>_<pid>, so the runner can sweep what a killed bench left. */
export async function freshDatabase(name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = await benchAdmin();
  const db = `${name}_${process.pid}`;
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${db}`);
  } catch (error) {
    await admin.end();
    throw new BenchSetupError(
      `Cannot create a benchmark database on ${shownUrl()} (${(error as Error).message}): BENCH_DATABASE_URL needs a role that may create databases.`,
    );
  }
  created.add(db);
  dropOnInterrupt();
  const url = new URL(BENCH_PG);
  url.pathname = `/${db}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      created.delete(db);
      await admin.end();
    },
  };
}

let handlersInstalled = false;
let interrupted = false;
/** Ctrl-C (or the runner's SIGTERM) drops this process's databases before it exits. */
function dropOnInterrupt(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const stop = (signal: NodeJS.Signals) => {
    interrupted = true;
    void (async () => {
      try {
        const admin = new pg.Client({ connectionString: BENCH_PG, connectionTimeoutMillis: 3_000 });
        await admin.connect();
        for (const db of created) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
        await admin.end();
      } catch {
        /* the runner sweeps what is left */
      }
      process.exit(signal === "SIGINT" ? 130 : 143);
    })();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

// A bench that cannot start says why in one line; anything else keeps its stack trace.
// Once interrupted, the queries the drop cut off fail: that is expected, and not printed.
function fail(error: unknown): void {
  if (interrupted) return;
  if (error instanceof BenchSetupError) console.error(error.message);
  else console.error(error);
  process.exit(1);
}
process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);

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
