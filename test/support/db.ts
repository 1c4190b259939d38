/** A fresh, migrated database per test file: PGlite from the run's dump, or a Postgres copy. */
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, inject } from "vitest";
import { setDbForTests, type Db, type DbHandle } from "@/lib/db/client";
import * as schema from "@/lib/db/schema";

export const onPostgres = () => inject("testDb").kind === "postgres";

export async function createTestDb(): Promise<DbHandle> {
  const cfg = inject("testDb");
  if (cfg.kind === "postgres") {
    const { default: pg } = await import("pg");
    const { drizzle } = await import("drizzle-orm/node-postgres");
    const name = `gs_t_${process.pid}_${randomBytes(4).toString("hex")}`;
    const admin = new pg.Client({ connectionString: cfg.adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${cfg.template}`);
    const url = new URL(cfg.adminUrl);
    url.pathname = `/${name}`;
    const pool = new pg.Pool({ connectionString: url.toString(), max: 20 });
    return {
      db: drizzle({ client: pool, schema }) as unknown as Db,
      driver: "node-postgres",
      close: async () => {
        await pool.end();
        // Closing sockets finish a moment after pool.end(); FORCE would kill a backend whose client is
        // still ending and surface as an uncaught error, so wait for them to go first.
        for (let i = 0; i < 50; i++) {
          const { rows } = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1", [name]);
          if (rows[0].n === 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      },
    };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const client = await PGlite.create({ loadDataDir: new Blob([readFileSync(cfg.dump)]) });
  return { db: drizzle({ client, schema }) as unknown as Db, driver: "pglite", close: () => client.close() };
}

/** Installs a fresh database as the process's database for this file's tests. */
export function useTestDb(): { readonly db: Db; readonly handle: DbHandle } {
  let handle: DbHandle | undefined;
  beforeAll(async () => {
    handle = await createTestDb();
    setDbForTests(handle);
  });
  afterAll(async () => {
    setDbForTests(undefined);
    await handle?.close();
  });
  return {
    get db() {
      if (!handle) throw new Error("useTestDb: database not ready (use it inside tests)");
      return handle.db;
    },
    get handle() {
      if (!handle) throw new Error("useTestDb: database not ready");
      return handle;
    },
  };
}

/** Empties every table (between tests of one file). */
export async function truncateAll(db: Db): Promise<void> {
  const { rows } = (await db.execute(
    sql`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`,
  )) as unknown as { rows: { tablename: string }[] };
  if (rows.length === 0) return;
  const list = rows.map((r) => `"${r.tablename}"`).join(", ");
  await db.execute(sql.raw(`TRUNCATE ${list} RESTART IDENTITY CASCADE`));
}
