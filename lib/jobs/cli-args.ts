/** The command line's arguments, and resolving `--context` (shared by jobs and operator commands). */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf, UUID } from "../db/rows";
import { ltiId } from "../validation";

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

export const CONTEXT_HELP =
  "--context takes an id from /api/status, or the LMS's ids as platformId/contextId/resourceLinkId " +
  "(each part URL-encoded: an id may hold a /)";

/**
 * `--context`: an /api/status id (a UUID), or the LMS's ids `platformId/contextId/resourceLinkId`,
 * each part URL-encoded (ids may hold `/`). The course's first resource link stands for it when the
 * last part is left out (`platformId/contextId`).
 */
export async function resolveContextArg(db: Db, id: string): Promise<ResolvedContext> {
  const where = UUID.test(id) ? sql`rl.id = ${id}::uuid` : lmsIds(id);
  const rows = await rowsOf<ResolvedContext>(db, sql`SELECT rl.id AS "resourceLinkRef", c.id AS "contextRef", p.platform_id AS "platformId",
      c.context_id AS "contextId", rl.resource_link_id AS "resourceLinkId"
    FROM resource_links rl JOIN contexts c ON c.id = rl.context_ref JOIN platforms p ON p.id = c.platform_ref
    WHERE ${where} ORDER BY rl.created_at, rl.id LIMIT 1`);
  if (!rows[0]) throw new UsageError(`no context ${id} (${CONTEXT_HELP})`);
  return rows[0];
}

function lmsIds(arg: string) {
  const parts = arg.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === "")) throw new UsageError(`${CONTEXT_HELP}; got "${arg}"`);
  let ids: string[];
  try {
    ids = parts.map((p) => decodeURIComponent(p));
  } catch {
    throw new UsageError(`--context "${arg}": a part is not valid URL encoding`);
  }
  if (ids.some((v) => !ltiId().safeParse(v).success)) throw new UsageError(`--context "${arg}": each id is 1–255 characters of valid text`);
  const [platformId, contextId, resourceLinkId] = ids;
  return sql`p.platform_id = ${platformId}::text AND c.context_id = ${contextId}::text
    ${resourceLinkId !== undefined ? sql`AND rl.resource_link_id = ${resourceLinkId}::text` : sql``}`;
}
