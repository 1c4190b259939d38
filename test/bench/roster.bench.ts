/**
 * Issue #4's roster figures: a refresh of one context with 10,000 members (200 pages of 50) against
 * the emulator at zero latency, on Postgres (the target: ≤ 5 s, ≤ 1 statement per page) and, side
 * by side, on an in-memory PGlite. Statements are counted at the driver (node-postgres: every query a
 * client sends, BEGIN/COMMIT included; PGlite: every query Drizzle sends, its transaction's
 * BEGIN/COMMIT added). Two refreshes: the first onto an empty roster, the second onto the full one
 * with 10 % of roles changed and 2 % gone (who become Inactive).
 *
 *   npm run bench roster     (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres)
 */
import { sql } from "drizzle-orm";
import pg from "pg";
import { startEmulatorServer } from "../../lib/emulator/server";
import type { Member } from "../../lib/emulator/types";
import { findMigrationsFolder, setDbForTests, type Db } from "../../lib/db/client";
import * as schema from "../../lib/db/schema";
import { seal } from "../../lib/crypto/seal";
import { parseEnv, setEnvForTests } from "../../lib/env";
import { refreshContext } from "../../lib/roster/refresh";
import { jobDeps } from "../../lib/jobs/deps";
import { rosterDepsOf } from "../../lib/jobs/definitions/roster-context";
import { freshDatabase } from "./support";

const MEMBERS = Number(process.env.BENCH_ROSTER_MEMBERS ?? 10_000);
const API_KEY = "bench-api-key";
const PLATFORM = "bench-platform";
const CONTEXT = "big-course";
const LINK = "rl-1";

process.env.GRADESYNC_LOG ??= "silent";

function roster(round: number): Member[] {
  const out: Member[] = [{ userId: "teacher-1", roles: ["Instructor"], name: "Teacher" }];
  for (let i = 1; out.length < MEMBERS; i++) {
    // Round 2: 2 % left the course (not listed), 10 % changed role.
    if (round === 2 && i % 50 === 0) continue;
    const role = round === 2 && i % 10 === 3 ? "TeachingAssistant" : i % 100 === 0 ? "Mentor" : "Learner";
    out.push({ userId: `user-${i}`, roles: [role], status: i % 97 === 0 ? "Inactive" : undefined, name: `User ${i}`, email: `u${i}@example.edu` });
  }
  return out;
}

async function seedContext(db: Db, serviceKey: string): Promise<string> {
  const one = async (q: ReturnType<typeof sql>) => ((await db.execute(q)) as unknown as { rows: { id: string }[] }).rows[0].id;
  const p = await one(sql`INSERT INTO platforms (platform_id) VALUES (${PLATFORM}) RETURNING id`);
  const c = await one(sql`INSERT INTO contexts (platform_ref, context_id) VALUES (${p}::uuid, ${CONTEXT}) RETURNING id`);
  const rl = await one(sql`INSERT INTO resource_links (context_ref, resource_link_id) VALUES (${c}::uuid, ${LINK}) RETURNING id`);
  const sealed = await seal(serviceKey, { platformId: PLATFORM, contextId: CONTEXT, resourceLinkId: LINK });
  await db.execute(sql`INSERT INTO service_keys (resource_link_ref, sealed, key_id, has_ags, has_nrps)
    VALUES (${rl}::uuid, ${sealed.sealed}, ${sealed.keyId}, true, true)`);
  return c;
}

interface Figures {
  ms: number;
  statements: number;
  pages: number;
  members: number;
  inactivated: number;
}

async function measure(label: string, db: Db, counter: { n: number }, emu: Awaited<ReturnType<typeof startEmulatorServer>>) {
  setDbForTests({ db, driver: "node-postgres", close: async () => undefined });
  const { serviceKey } = emu.emulator.createLaunch({ platformId: PLATFORM, contextId: CONTEXT, resourceLinkId: LINK, user: { id: "teacher-1" }, roles: ["Instructor"] });
  const contextRef = await seedContext(db, serviceKey!);
  const deps = rosterDepsOf(await jobDeps("inline", { db }));
  const results: Figures[] = [];
  for (const round of [1, 2]) {
    emu.emulator.setRoster(PLATFORM, CONTEXT, roster(round));
    counter.n = 0;
    const t0 = performance.now();
    const out = await refreshContext(deps, contextRef, { force: true });
    const ms = performance.now() - t0;
    if (out.outcome !== "refreshed") throw new Error(`refresh ${out.outcome}: ${"reason" in out ? out.reason : ""}`);
    results.push({ ms, statements: counter.n, pages: out.pages, members: out.members, inactivated: out.inactivated });
    const f = results.at(-1)!;
    console.log(
      `${label} ${round === 1 ? "first refresh (empty roster)" : "second refresh (10% roles changed, 2% gone)"}: ` +
        `${f.ms.toFixed(0)} ms (target ≤ 5000), ${f.pages} pages, ${f.statements} statements = ${(f.statements / f.pages).toFixed(3)} per page (target ≤ 1), ` +
        `${f.members} members, ${f.inactivated} made Inactive`,
    );
  }
  return results;
}

const emu = await startEmulatorServer({ apiKey: API_KEY, host: "127.0.0.1" });
emu.emulator.faults.latencyMs = 0;
setEnvForTests(
  parseEnv({
    NODE_ENV: "test",
    LTIAAS_URL: emu.url,
    LTIAAS_API_KEY: API_KEY,
    ENCRYPTION_KEYS: "YmVuY2gtZW5jcnlwdGlvbi1rZXktMzItYnl0ZXMtISE",
    SESSION_SECRET: "bench-session-secret-at-least-32-characters",
    PGLITE_DIR: "/nonexistent-bench-never-opens-a-data-dir",
  }),
);
let failed = false;
const pgDb = await freshDatabase("gradesync_bench_roster");
try {
  // Every query any client of this process sends (a pool's and a checked-out client's alike).
  const counter = { n: 0 };
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    counter.n++;
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  const { drizzle } = await import("drizzle-orm/node-postgres");
  const { migrate } = await import("drizzle-orm/node-postgres/migrator");
  const pool = new pg.Pool({ connectionString: pgDb.url, max: 10 });
  const db = drizzle({ client: pool, schema }) as unknown as Db;
  await migrate(db as never, { migrationsFolder: findMigrationsFolder() });
  const onPg = await measure("postgres", db, counter, emu);
  pg.Client.prototype.query = original;
  await pool.end();
  failed ||= onPg.some((f) => f.ms > 5_000 || f.statements > f.pages);

  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle: drizzleLite } = await import("drizzle-orm/pglite");
  const { migrate: migrateLite } = await import("drizzle-orm/pglite/migrator");
  const client = await PGlite.create();
  const liteCounter = { n: 0 };
  const lite = drizzleLite({
    client,
    schema,
    logger: {
      logQuery: (query: string) => {
        liteCounter.n++;
        // PGlite's transaction() sends BEGIN and COMMIT itself, past Drizzle's logger.
        if (/^\s*update "?contexts"? c set roster_refreshed_at/i.test(query)) liteCounter.n += 2;
      },
    },
  }) as unknown as Db;
  emu.emulator.reset();
  await migrateLite(lite as never, { migrationsFolder: findMigrationsFolder() });
  const onLite = await measure("pglite", lite, liteCounter, emu);
  await client.close();
  for (const i of [0, 1]) console.log(`ratio pglite/postgres wall time, refresh ${i + 1}: ${(onLite[i].ms / onPg[i].ms).toFixed(2)}`);
} finally {
  setDbForTests(undefined);
  await pgDb.drop();
  await emu.close();
}
process.exit(failed ? 1 : 0);
