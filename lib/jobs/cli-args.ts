/** The command line's arguments, and resolving `--context` (shared by jobs and operator commands). */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf, UUID } from "../db/rows";

export class UsageError extends Error {}

export interface CliArgs {
  command: string;
  context?: string;
  /** An LTIAAS platform id (pause, resume, platform). */
  platform?: string;
  /** A platform's ceiling of requests in flight, or "default". */
  concurrency?: string;
  since?: string;
  file?: string;
  dryRun: boolean;
  overwrite: boolean;
  json: boolean;
  /** `--file`'s entries, read by the command line (`withFileRead`): nothing past it reads a path. */
  scores?: unknown[];
}

export interface ResolvedContext {
  resourceLinkRef: string;
  contextRef: string;
  platformId: string;
  contextId: string;
  resourceLinkId: string;
}

export async function resolveContextArg(db: Db, id: string): Promise<ResolvedContext> {
  if (!UUID.test(id)) throw new UsageError(`--context takes an id from /api/status (a UUID), got "${id}"`);
  const rows = await rowsOf<ResolvedContext>(db, sql`SELECT rl.id AS "resourceLinkRef", c.id AS "contextRef", p.platform_id AS "platformId",
      c.context_id AS "contextId", rl.resource_link_id AS "resourceLinkId"
    FROM resource_links rl JOIN contexts c ON c.id = rl.context_ref JOIN platforms p ON p.id = c.platform_ref
    WHERE rl.id = ${id}::uuid`);
  if (!rows[0]) throw new UsageError(`no context with id ${id}`);
  return rows[0];
}
