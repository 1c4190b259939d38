/**
 * @vercel/postgres, the design card's driver for POSTGRES_URL on Vercel. It is deprecated upstream
 * (Vercel Postgres moved to Neon), so it lives in this one file: swapping it for
 * @neondatabase/serverless changes nothing else.
 */
import type { DbHandle, Db } from "./client";
import * as schema from "./schema";

export async function openVercelPostgres(connectionString: string): Promise<DbHandle> {
  const { createPool } = await import("@vercel/postgres");
  const { drizzle } = await import("drizzle-orm/vercel-postgres");
  const pool = createPool({ connectionString });
  const db = drizzle({ client: pool, schema }) as unknown as Db;
  return { db, driver: "vercel-postgres", close: () => pool.end() };
}
