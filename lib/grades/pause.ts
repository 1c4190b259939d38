/**
 * Pause: a teacher pauses a link (e.g. while regrading), an operator a whole platform. While paused,
 * nothing calls that LMS for it — no pushes, Sync now, overwrites, reconcile reads or roster reads —
 * and scores and backfills are still recorded; their rows wait, counted as pending. Resuming answers
 * the contexts that have something to send (the caller pushes them at once).
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";

export type PauseTarget = { linkRef: string } | { platformId: string };

export interface PauseResult {
  /** Whether the target exists. */
  found: boolean;
  /** The state changed (false: it already was so). */
  changed: boolean;
  /** Contexts with pending rows now free to be pushed (on resume). */
  contexts: { contextRef: string; platformId: string }[];
}

export async function setPaused(db: Db, target: PauseTarget, paused: boolean): Promise<PauseResult> {
  const stamp = paused ? sql`now()` : sql`NULL`;
  const still = paused ? sql`paused_at IS NULL` : sql`paused_at IS NOT NULL`;
  const [r] =
    "linkRef" in target
      ? await rowsOf<{ found: boolean; changed: boolean }>(
          db,
          sql`WITH t AS (SELECT id FROM resource_links WHERE id = ${target.linkRef}::uuid),
                   u AS (UPDATE resource_links SET paused_at = ${stamp}, updated_at = now() WHERE id IN (SELECT id FROM t) AND ${still} RETURNING 1)
              SELECT EXISTS (SELECT 1 FROM t) AS found, EXISTS (SELECT 1 FROM u) AS changed`,
        )
      : await rowsOf<{ found: boolean; changed: boolean }>(
          db,
          sql`WITH t AS (SELECT id FROM platforms WHERE platform_id = ${target.platformId}::text),
                   u AS (UPDATE platforms SET paused_at = ${stamp}, updated_at = now() WHERE id IN (SELECT id FROM t) AND ${still} RETURNING 1)
              SELECT EXISTS (SELECT 1 FROM t) AS found, EXISTS (SELECT 1 FROM u) AS changed`,
        );
  const found = Boolean(r?.found);
  const contexts = found && !paused ? await unpausedContextsWithPending(db, target) : [];
  return { found, changed: Boolean(r?.changed), contexts };
}

async function unpausedContextsWithPending(db: Db, target: PauseTarget): Promise<PauseResult["contexts"]> {
  const scope = "linkRef" in target ? sql`rl.id = ${target.linkRef}::uuid` : sql`p.platform_id = ${target.platformId}::text`;
  return rowsOf<{ contextRef: string; platformId: string }>(
    db,
    sql`SELECT DISTINCT rl.context_ref AS "contextRef", p.platform_id AS "platformId"
        FROM resource_links rl JOIN contexts c ON c.id = rl.context_ref JOIN platforms p ON p.id = c.platform_ref
        JOIN grade_counters gc ON gc.resource_link_ref = rl.id
        WHERE ${scope} AND gc.pending > 0 AND rl.paused_at IS NULL AND p.paused_at IS NULL`,
  );
}
