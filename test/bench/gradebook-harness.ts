/**
 * What the gradebook-truth benches (reconcile.bench.ts, readback.bench.ts) share: a Postgres
 * database of their own (created, dropped at the end and on Ctrl-C), the emulator in a child
 * process (emulator-child.ts: an LMS does not share the pipeline's event loop), the app's env and a
 * pool, links seeded straight into the database, a client that counts requests by kind, runs through
 * the inline dispatcher, and the machine's load to print beside every figure (other work shares
 * the cores). support.ts (the sync bench's) gives the load, the clean-up on Ctrl-C and the profiler.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import { seal } from "../../lib/crypto/seal";
import { openDatabase, setDbForTests, type Db } from "../../lib/db/client";
import * as schema from "../../lib/db/schema";
import { parseEnv, setEnvForTests } from "../../lib/env";
import { recordScores } from "../../lib/grades/record";
import type { DepsOverrides } from "../../lib/jobs/deps";
import { createDispatcher } from "../../lib/jobs/dispatch";
import type { InlineRun } from "../../lib/jobs/inline";
import { ltiaas, type LtiaasClient } from "../../lib/ltiaas";
import { PlatformGate } from "../../lib/ltiaas/gate";
import { onExit } from "./support";

export { load, profiled } from "./support";

process.env.GRADESYNC_LOG ??= "silent";
const API_KEY = "bench-api-key";
const BENCH_PG = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface SeedSpec {
  prefix: string;
  platforms: number;
  contexts: number;
  learners: number;
}

export interface Link {
  prefix: string;
  platformId: string;
  contextId: string;
  resourceLinkId: string;
  contextRef: string;
  lineItemId: string;
  serviceKey: string;
}

/** Requests the pipeline made, by kind (counted at the client). */
export interface Requests {
  /** Result pages read (`?limit=` or a `next` link). */
  resultPages: number;
  /** Results read one user at a time (`?userId=`). */
  resultUsers: number;
  scores: number;
  lineItems: number;
  /** Milliseconds requests were out, added up: ÷ wall time = requests in flight on average. */
  busyMs: number;
}

const zero = (): Requests => ({ resultPages: 0, resultUsers: 0, scores: 0, lineItems: 0, busyMs: 0 });
export const minus = (a: Requests, b: Requests): Requests => ({
  resultPages: a.resultPages - b.resultPages,
  resultUsers: a.resultUsers - b.resultUsers,
  scores: a.scores - b.scores,
  lineItems: a.lineItems - b.lineItems,
  busyMs: a.busyMs - b.busyMs,
});

/** CPU seconds a process has used (user + system), from /proc; 0 when it is gone. */
function procCpu(pid: number | string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (CLK_TCK 100)
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by this process, the emulator child and the Postgres backends serving the database. */
export interface CpuUse {
  node: number;
  emulator: number;
  postgres: number;
}
export const cpuMinus = (a: CpuUse, b: CpuUse): CpuUse => ({ node: a.node - b.node, emulator: a.emulator - b.emulator, postgres: a.postgres - b.postgres });
export const cpuLine = (c: CpuUse) => `CPU used: pipeline ${fmt(c.node)} s, Postgres ${fmt(c.postgres)} s, emulator ${fmt(c.emulator)} s`;

export const fmt = (n: number, d = 2) => n.toFixed(d);
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Statements' time by their opening words (BENCH_SQL_TIMES=1): where the database part goes. */
const statementTimes = new Map<string, { n: number; ms: number }>();
function timeStatements(pool: pg.Pool): void {
  const query = pool.query.bind(pool) as (...a: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: (...a: unknown[]) => Promise<unknown> }).query = (...a: unknown[]) => {
    const text = typeof a[0] === "string" ? a[0] : ((a[0] as { text?: string })?.text ?? "?");
    const key = text.replace(/\s+/g, " ").trim().slice(0, 90);
    const t0 = performance.now();
    return query(...a).finally(() => {
      const e = statementTimes.get(key) ?? { n: 0, ms: 0 };
      e.n++;
      e.ms += performance.now() - t0;
      statementTimes.set(key, e);
    });
  };
}
/** The statements' times since the last call (BENCH_SQL_TIMES=1), heaviest first. */
export function statementReport(top = 12): string {
  const rows = [...statementTimes].sort((a, b) => b[1].ms - a[1].ms).slice(0, top);
  statementTimes.clear();
  return rows.map(([k, v]) => `  ${v.ms.toFixed(0).padStart(6)} ms ${String(v.n).padStart(5)}×  ${k}`).join("\n");
}

export interface Harness {
  db: Db;
  /** One line to the emulator child, its one-line answer back. */
  tell(cmd: string): Promise<string>;
  /** Seeds the prefix's courses as links; `created`: as if Gradesync had created the line item. */
  seed(prefix: string, opts?: { created?: boolean }): Promise<Link[]>;
  record(links: Link[], learners: number, score: (i: number) => number): Promise<void>;
  /** A run of `kind` inline, with a fresh platform gate (as a new process would have). */
  run(kind: string, payload: object, deps?: DepsOverrides): Promise<InlineRun>;
  requests: Requests;
  emulatorRequests(): Promise<number>;
  /** CPU used so far (a backend that closed meanwhile is not counted: the pool keeps its connections). */
  cpu(): CpuUse;
  say(line: string): void;
  /** Prints the summary, drops the database, stops the child, exits. */
  finish(): Promise<never>;
  /** The bench failed: says why, drops the database, stops the child, exits non-zero. */
  abort(error: unknown): Promise<never>;
}

/**
 * Starts what a bench needs, or says in one line why it cannot and exits. `name` names the
 * database (with the pid, so two benches never share one).
 */
export async function startHarness(name: string, spec: SeedSpec[], concurrency: number): Promise<Harness> {
  const dbName = `${name}_${process.pid}`;
  const where = (() => {
    const u = new URL(BENCH_PG);
    return `${u.hostname}:${u.port || 5432}`;
  })();
  const admin = new pg.Client({ connectionString: BENCH_PG });
  admin.on("error", () => undefined);
  // Set once started; the cleanup stops whatever was.
  const live: { child?: ChildProcess; pool?: pg.Pool } = {};
  let created = false;
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      live.child?.kill();
      await live.pool?.end().catch(() => undefined);
      if (created) await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
      await admin.end().catch(() => undefined);
    })());
  // Ctrl-C or SIGTERM: support.ts runs this, then exits.
  onExit(cleanup);
  const cannotStart = async (why: string): Promise<never> => {
    console.error(`${name} cannot start: ${why}`);
    await cleanup();
    process.exit(1);
  };

  try {
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${dbName}`);
    created = true;
  } catch (error) {
    return cannotStart(`no Postgres database at ${where} (${(error as { code?: string }).code ?? (error as Error).message}); set BENCH_DATABASE_URL`);
  }
  const url = new URL(BENCH_PG);
  url.pathname = `/${dbName}`;

  const child = (live.child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "emulator-child.ts")], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, BENCH_API_KEY: API_KEY, BENCH_EMU_SPEC: JSON.stringify(spec) },
  }));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const nextLine = async () => {
    const r = await lines.next();
    if (r.done) return cannotStart("the emulator child process ended");
    return r.value as string;
  };
  const tell = async (cmd: string) => {
    child.stdin!.write(`${cmd}\n`);
    const answer = await nextLine();
    if (answer.startsWith("error")) throw new Error(`emulator: ${answer}`);
    return answer;
  };
  const seeded = JSON.parse(await nextLine()) as { url: string; triples: (Omit<Link, "contextRef"> & { serviceKey: string })[] };

  setEnvForTests(
    parseEnv({
      NODE_ENV: "test",
      DATABASE_URL: url.toString(),
      LTIAAS_URL: seeded.url,
      LTIAAS_API_KEY: API_KEY,
      ENCRYPTION_KEYS: "dGVzdC1lbmNyeXB0aW9uLWtleS1vbmUtMzItYnl0ZXM",
      SESSION_SECRET: "bench-session-secret-that-is-long-enough",
      PLATFORM_CONCURRENCY: String(concurrency),
    }),
  );
  try {
    await (await openDatabase({ driver: "node-postgres", url: url.toString() }, { migrate: true })).close();
  } catch (error) {
    return cannotStart(`migrating ${dbName} failed (${(error as Error).message})`);
  }
  const pool = (live.pool = new pg.Pool({ connectionString: url.toString(), max: 24, idleTimeoutMillis: 0 }));
  pool.on("error", () => undefined);
  if (process.env.BENCH_SQL_TIMES) timeStatements(pool);
  const handle = { db: drizzle({ client: pool, schema }) as unknown as Db, driver: "node-postgres" as const, close: () => pool.end() };
  setDbForTests(handle);
  const db = handle.db;

  const requests = zero();
  const real = ltiaas();
  const timed = <T>(p: Promise<T>): Promise<T> => {
    const t0 = performance.now();
    return p.finally(() => (requests.busyMs += performance.now() - t0));
  };
  const counting: LtiaasClient = {
    ...real,
    listLineItems: (...a) => (requests.lineItems++, timed(real.listLineItems(...a))),
    getLineItem: (...a) => (requests.lineItems++, timed(real.getLineItem(...a))),
    createLineItem: (...a) => (requests.lineItems++, timed(real.createLineItem(...a))),
    postScore: (...a) => (requests.scores++, timed(real.postScore(...a))),
    listResultsPage: (...a) => {
      const q = a[2] as { userId?: string } | undefined;
      if (q?.userId !== undefined) requests.resultUsers++;
      else requests.resultPages++;
      return timed(real.listResultsPage(...a));
    },
  };

  const row = async (q: ReturnType<typeof sql>) => ((await db.execute(q)) as unknown as { rows: { id: string }[] }).rows[0].id;
  const summary: string[] = [];
  return {
    db,
    tell,
    requests,
    async seed(prefix, opts = {}) {
      const out: Link[] = [];
      for (const t of seeded.triples.filter((x) => x.prefix === prefix)) {
        const pRef = await row(sql`INSERT INTO platforms (platform_id) VALUES (${t.platformId}) ON CONFLICT (platform_id) DO UPDATE SET updated_at = now() RETURNING id`);
        const cRef = await row(sql`INSERT INTO contexts (platform_ref, context_id) VALUES (${pRef}::uuid, ${t.contextId}) RETURNING id`);
        const rlRef = await row(
          opts.created
            ? sql`INSERT INTO resource_links (context_ref, resource_link_id, line_item_id, line_item_state, line_item_created_at)
                  VALUES (${cRef}::uuid, ${t.resourceLinkId}, ${t.lineItemId}, 'ok', now()) RETURNING id`
            : sql`INSERT INTO resource_links (context_ref, resource_link_id, launch_line_item_id) VALUES (${cRef}::uuid, ${t.resourceLinkId}, ${t.lineItemId}) RETURNING id`,
        );
        const sealed = await seal(t.serviceKey, { platformId: t.platformId, contextId: t.contextId, resourceLinkId: t.resourceLinkId });
        await db.execute(sql`INSERT INTO service_keys (resource_link_ref, sealed, key_id, has_ags, has_nrps) VALUES (${rlRef}::uuid, ${sealed.sealed}, ${sealed.keyId}, true, true)`);
        out.push({ prefix, platformId: t.platformId, contextId: t.contextId, resourceLinkId: t.resourceLinkId, contextRef: cRef, lineItemId: t.lineItemId, serviceKey: t.serviceKey });
      }
      return out;
    },
    async record(links, learners, score) {
      const entries = links.flatMap((t) =>
        Array.from({ length: learners }, (_, i) => ({ platformId: t.platformId, contextId: t.contextId, resourceLinkId: t.resourceLinkId, userId: `u${i}`, scoreGiven: score(i), scoreMaximum: 10 })),
      );
      for (let i = 0; i < entries.length; i += 1000) await recordScores(entries.slice(i, i + 1000), { source: "webhook", db });
    },
    run: (kind, payload, deps = {}) =>
      createDispatcher({ mode: "inline", deps: { ltiaas: counting, gate: new PlatformGate(concurrency), ...deps } }).runHere(kind, payload, "bench"),
    cpu: () => {
      let postgres = 0;
      for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
        try {
          if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(` ${dbName} `)) postgres += procCpu(pid);
        } catch {
          /* exited */
        }
      }
      const u = process.cpuUsage();
      return { node: (u.user + u.system) / 1e6, emulator: procCpu(child.pid!), postgres };
    },
    emulatorRequests: async () => (JSON.parse(await tell("stats")) as { requests: number }).requests,
    say(line) {
      summary.push(line);
      console.log(line);
    },
    async finish() {
      console.log(`\nsummary (${name}):\n${summary.join("\n")}`);
      await cleanup();
      process.exit(0);
    },
    async abort(error) {
      // Interrupted: the failure is only the pool closing under the run; the signal's handler exits.
      if (cleaned) return new Promise<never>(() => undefined);
      console.error(`${name} failed:`, error);
      await cleanup();
      process.exit(1);
    },
  };
}
