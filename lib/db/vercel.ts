/**
 * @vercel/postgres, the design card's driver for POSTGRES_URL on Vercel. It is deprecated upstream
 * (Vercel Postgres moved to Neon), so it lives in this one file: swapping it for
 * @neondatabase/serverless changes nothing else.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Db, DbHandle } from "./client";
import * as schema from "./schema";

export interface VercelPostgresOptions {
  /**
   * Reach a plain Postgres through a WebSocket-to-TCP proxy (`host:port/path`, the address is
   * appended as `?address=`). Only tests use it: the driver speaks WebSockets to Neon's proxy.
   */
  wsProxy?: string;
}

/**
 * The neonConfig instance @vercel/postgres itself uses (its own nested copy of
 * @neondatabase/serverless, ESM build: the same module URL it imports, so the same object).
 */
async function neonConfigOfVercelPostgres() {
  const require = createRequire(import.meta.url);
  const cjsEntry = createRequire(require.resolve("@vercel/postgres")).resolve("@neondatabase/serverless");
  const esmEntry = pathToFileURL(path.join(path.dirname(cjsEntry), "index.mjs")).href;
  const mod = (await import(/* webpackIgnore: true */ esmEntry)) as { neonConfig: Record<string, unknown> };
  return mod.neonConfig;
}

export async function openVercelPostgres(connectionString: string, options: VercelPostgresOptions = {}): Promise<DbHandle> {
  const { createPool } = await import("@vercel/postgres");
  const { drizzle } = await import("drizzle-orm/vercel-postgres");
  if (options.wsProxy) {
    const neonConfig = await neonConfigOfVercelPostgres();
    const proxy = options.wsProxy;
    neonConfig.wsProxy = (host: string, port: number | string) => `${proxy}?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
  }
  const pool = createPool({ connectionString });
  const db = drizzle({ client: pool, schema }) as unknown as Db;
  return { db, driver: "vercel-postgres", close: () => pool.end() };
}
