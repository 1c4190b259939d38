/**
 * One driver factory for the one schema: embedded PGlite (default), node-postgres (DATABASE_URL, or
 * POSTGRES_URL off Vercel) and @vercel/postgres (POSTGRES_URL on Vercel, isolated in ./vercel.ts).
 */
import path from "node:path";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { env, type DatabaseConfig } from "../env";
import { acquireDirLock } from "./lock";
import * as schema from "./schema";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A transaction handle: everything a Db can do inside one transaction. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

export interface DbHandle {
  db: Db;
  driver: DatabaseConfig["driver"];
  close(): Promise<void>;
}

/** The drizzle/ folder under the working directory: Next bundles this file elsewhere, so its own path cannot be used. */
export function findMigrationsFolder(): string {
  return path.resolve(process.cwd(), "drizzle");
}

export async function openDatabase(config: DatabaseConfig, options: { migrate?: boolean } = {}): Promise<DbHandle> {
  switch (config.driver) {
    case "pglite": {
      // Only one process may open a PGlite data directory: a second one would corrupt it.
      const release = acquireDirLock(config.dir);
      try {
        const { PGlite } = await import("@electric-sql/pglite");
        const { drizzle } = await import("drizzle-orm/pglite");
        const client = await PGlite.create(config.dir);
        const db = drizzle({ client, schema }) as unknown as Db;
        if (options.migrate !== false) {
          const { migrate } = await import("drizzle-orm/pglite/migrator");
          await migrate(db as never, { migrationsFolder: findMigrationsFolder() });
        }
        return {
          db,
          driver: "pglite",
          close: async () => {
            await client.close();
            release();
          },
        };
      } catch (error) {
        release();
        throw error;
      }
    }
    case "node-postgres": {
      const { default: pg } = await import("pg");
      const { drizzle } = await import("drizzle-orm/node-postgres");
      const pool = new pg.Pool({ connectionString: config.url, max: 10, idleTimeoutMillis: 30_000 });
      const db = drizzle({ client: pool, schema }) as unknown as Db;
      if (options.migrate) {
        const { migrate } = await import("drizzle-orm/node-postgres/migrator");
        await migrate(db as never, { migrationsFolder: findMigrationsFolder() });
      }
      return { db, driver: "node-postgres", close: () => pool.end() };
    }
    case "vercel-postgres": {
      const { openVercelPostgres } = await import("./vercel");
      return openVercelPostgres(config.url);
    }
  }
}

const holder = globalThis as unknown as { __gradesyncDb?: Promise<DbHandle> };

/** The process's database, opened on first use (PGlite is migrated then). */
export function getDbHandle(): Promise<DbHandle> {
  if (!holder.__gradesyncDb) {
    const opening = openDatabase(env().database);
    holder.__gradesyncDb = opening;
    // A failed open must not be cached forever: the next request tries again.
    opening.catch(() => {
      if (holder.__gradesyncDb === opening) holder.__gradesyncDb = undefined;
    });
  }
  return holder.__gradesyncDb;
}

export async function getDb(): Promise<Db> {
  return (await getDbHandle()).db;
}

/** Tests install their own database (a PGlite loaded from a dump, or a fresh Postgres database). */
export function setDbForTests(handle: DbHandle | undefined): void {
  holder.__gradesyncDb = handle ? Promise.resolve(handle) : undefined;
}

export async function closeDb(): Promise<void> {
  const handle = holder.__gradesyncDb;
  holder.__gradesyncDb = undefined;
  if (handle) await (await handle).close();
}
