/**
 * Which contexts a roster refresh covers and which serviceKey it uses. A context is due when one of
 * its resource links has an active key with Names and Roles and its roster is older than
 * ROSTER_MAX_AGE_HOURS (or was never refreshed); a stale context that cannot be refreshed is
 * reported as skipped with the reason.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf, UUID } from "../db/rows";

export type SkipReason = "no_nrps" | "needs_relaunch" | "no_key" | "fresh" | "not_found" | "paused";

export interface RosterTarget {
  contextRef: string;
  platformRef: string;
  platformId: string;
  contextId: string;
}

export interface RosterKey {
  linkRef: string;
  resourceLinkId: string;
  sealed: string;
}

export interface TargetList {
  due: RosterTarget[];
  skipped: { contextRef: string; reason: SkipReason }[];
}

/**
 * Seconds after which a roster counts as stale. The cron fires every ROSTER_MAX_AGE_HOURS, so a
 * roster refreshed a few seconds after one tick is a few seconds short of the age at the next: a
 * grace (a quarter of the age, at most 30 minutes) keeps it from waiting a whole extra period.
 */
export function staleAfterSeconds(maxAgeHours: number): number {
  const age = maxAgeHours * 3600;
  return age - Math.min(1800, age / 4);
}

/** SQL: the roster of the context aliased `c` is stale, or was never fetched. */
export const rosterStale = (maxAgeHours: number) =>
  sql`(c.roster_refreshed_at IS NULL OR c.roster_refreshed_at <= now() - make_interval(secs => ${staleAfterSeconds(maxAgeHours)}::float8))`;

interface ContextRow {
  /** Usable Names-and-Roles keys exist, but only on paused links (or the platform is paused). */
  nrps_paused?: boolean | null;
  context_ref: string;
  platform_ref: string;
  platform_id: string;
  context_id: string;
  stale: boolean;
  nrps_active: boolean | null;
  nrps_any: boolean | null;
  keys: number | string;
}

/**
 * `only` (the CLI's --context, the cron route's single context) takes context ids or resource link
 * ids (an /api/status id) and forces those contexts whatever their age.
 */
export async function listRosterTargets(db: Db, opts: { maxAgeHours: number; only?: string[] | null }): Promise<TargetList> {
  const only = opts.only ?? null;
  const out: TargetList = { due: [], skipped: [] };
  // Ids that are not UUIDs name nothing (and would make the cast fail): reported as not_found below.
  const wanted = only && sql`(SELECT (jsonb_array_elements_text(${JSON.stringify([...new Set(only.filter((id) => UUID.test(id)))])}::jsonb))::uuid)`;
  const filter = wanted ? sql`WHERE (c.id IN ${wanted} OR c.id IN (SELECT context_ref FROM resource_links WHERE id IN ${wanted}))` : sql``;
  const rows = await rowsOf<ContextRow>(
    db,
    sql`SELECT c.id AS context_ref, c.platform_ref, p.platform_id, c.context_id,
          ${rosterStale(opts.maxAgeHours)} AS stale,
          bool_or(sk.has_nrps AND sk.state = 'active' AND rl.paused_at IS NULL) AND bool_and(p.paused_at IS NULL) AS nrps_active,
          bool_or(sk.has_nrps AND sk.state = 'active') AS nrps_paused,
          bool_or(sk.has_nrps) AS nrps_any,
          count(sk.resource_link_ref) AS keys
        FROM contexts c JOIN platforms p ON p.id = c.platform_ref
        LEFT JOIN resource_links rl ON rl.context_ref = c.id
        LEFT JOIN service_keys sk ON sk.resource_link_ref = rl.id
        ${filter}
        GROUP BY c.id, c.platform_ref, p.platform_id, c.context_id, c.roster_refreshed_at
        ORDER BY p.platform_id, c.id`,
  );
  const seen = new Set<string>();
  for (const r of rows) {
    seen.add(r.context_ref);
    if (!only && !r.stale) continue;
    if (r.nrps_active) {
      out.due.push({ contextRef: r.context_ref, platformRef: r.platform_ref, platformId: r.platform_id, contextId: r.context_id });
      continue;
    }
    out.skipped.push({ contextRef: r.context_ref, reason: noKeySkipReason(r) });
  }
  if (only && wanted) {
    // An id that names no context is reported, not silently dropped.
    const known = new Set((await rowsOf<{ id: string }>(db, sql`SELECT id FROM resource_links WHERE id IN ${wanted}`)).map((r) => r.id));
    for (const id of new Set(only)) if (!seen.has(id) && !known.has(id)) out.skipped.push({ contextRef: id, reason: "not_found" });
  }
  return out;
}

/** The context as a target, and whether its roster is stale now. */
export async function rosterTarget(db: Db, contextRef: string, maxAgeHours: number): Promise<(RosterTarget & { stale: boolean }) | null> {
  if (!UUID.test(contextRef)) return null;
  const [r] = await rowsOf<ContextRow>(
    db,
    sql`SELECT c.id AS context_ref, c.platform_ref, p.platform_id, c.context_id,
          ${rosterStale(maxAgeHours)} AS stale
        FROM contexts c JOIN platforms p ON p.id = c.platform_ref WHERE c.id = ${contextRef}::uuid`,
  );
  return r ? { contextRef: r.context_ref, platformRef: r.platform_ref, platformId: r.platform_id, contextId: r.context_id, stale: r.stale } : null;
}

/** Why a context has no active Names-and-Roles key: the same reasons listRosterTargets gives. */
export async function noKeyReason(db: Db, contextRef: string): Promise<SkipReason> {
  const [r] = await rowsOf<{ nrps_any: boolean | null; nrps_paused: boolean | null; keys: number | string }>(
    db,
    sql`SELECT bool_or(sk.has_nrps) AS nrps_any, count(*) AS keys,
          bool_or(sk.has_nrps AND sk.state = 'active' AND (rl.paused_at IS NOT NULL OR p.paused_at IS NOT NULL)) AS nrps_paused
        FROM resource_links rl JOIN service_keys sk ON sk.resource_link_ref = rl.id
        JOIN contexts c ON c.id = rl.context_ref JOIN platforms p ON p.id = c.platform_ref
        WHERE rl.context_ref = ${contextRef}::uuid`,
  );
  return noKeySkipReason(r);
}

/** A context without a usable Names-and-Roles key: paused, its keys need a relaunch, lack the service, or it has none. */
function noKeySkipReason(r: { nrps_any: boolean | null; nrps_paused?: boolean | null; keys: number | string } | undefined): SkipReason {
  if (r?.nrps_paused) return "paused";
  return r?.nrps_any ? "needs_relaunch" : Number(r?.keys ?? 0) > 0 ? "no_nrps" : "no_key";
}

/** Active Names-and-Roles keys of the context's resource links, the most recently launched first. */
export async function rosterKeys(db: Db, contextRef: string): Promise<RosterKey[]> {
  const rows = await rowsOf<{ link_ref: string; resource_link_id: string; sealed: string }>(
    db,
    sql`SELECT rl.id AS link_ref, rl.resource_link_id, sk.sealed
        FROM resource_links rl JOIN service_keys sk ON sk.resource_link_ref = rl.id
        JOIN contexts c ON c.id = rl.context_ref JOIN platforms p ON p.id = c.platform_ref
        -- Paused (a link, or its platform): nothing calls that LMS for it, roster reads included.
        WHERE rl.context_ref = ${contextRef}::uuid AND sk.has_nrps AND sk.state = 'active' AND rl.paused_at IS NULL AND p.paused_at IS NULL
        ORDER BY sk.last_launch_at DESC, rl.id`,
  );
  return rows.map((r) => ({ linkRef: r.link_ref, resourceLinkId: r.resource_link_id, sealed: r.sealed }));
}

