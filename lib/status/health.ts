/**
 * GET /api/health: no auth, no secrets. Everything comes from the counters, indexed lookups and
 * the newest run of each kind — never a scan of the ledger.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";

export interface RunBrief {
  startedAt: string;
  finishedAt: string | null;
  outcome: string;
}

export interface Health {
  ok: true;
  db: "ok";
  pending: number;
  oldestPendingSeconds: number | null;
  failed24h: number;
  staleKeys: number;
  lastRuns: Record<string, RunBrief | null>;
  /** Rows whose LMS grade a person set (kept, not overwritten). */
  overridden: number;
  /** Platforms paused, and links paused themselves (a paused platform's links are not counted). */
  paused: { platforms: number; links: number };
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** `kinds`: the job kinds whose last run is shown (the job table's, see lib/jobs/table). */
export async function getHealth(db: Db, kinds: readonly string[], now = new Date()): Promise<Health> {
  const [r] = await rowsOf<{ pending: number; oldest: Date | string | null; failed24h: number; stale: number; overridden: number; paused_platforms: number; paused_links: number }>(
    db,
    sql`SELECT
      (SELECT coalesce(sum(pending), 0)::int FROM grade_counters) AS pending,
      -- Paused rows wait on purpose: they count as pending, not in how long grades have waited.
      (SELECT min(gc.oldest_pending_at) FROM grade_counters gc JOIN resource_links rl ON rl.id = gc.resource_link_ref
         JOIN contexts c ON c.id = rl.context_ref JOIN platforms p ON p.id = c.platform_ref
       WHERE gc.pending > 0 AND rl.paused_at IS NULL AND p.paused_at IS NULL) AS oldest,
      (SELECT coalesce(sum(overridden), 0)::int FROM grade_counters) AS overridden,
      (SELECT count(*)::int FROM platforms WHERE paused_at IS NOT NULL) AS paused_platforms,
      (SELECT count(*)::int FROM resource_links WHERE paused_at IS NOT NULL) AS paused_links,
      (SELECT count(*)::int FROM grade_rows WHERE state = 'failed' AND failed_at > ${now.toISOString()}::timestamptz - interval '24 hours') AS failed24h,
      (SELECT count(*)::int FROM service_keys WHERE state = 'needs_relaunch') AS stale`,
  );
  // The newest run of every kind in one statement (an index scan per kind), not one round trip each.
  const runs = await rowsOf<{ kind: string; started_at: Date | string | null; finished_at: Date | string | null; outcome: string | null }>(
    db,
    sql`SELECT k.kind, r.started_at, r.finished_at, r.outcome
    FROM jsonb_array_elements_text(${JSON.stringify(kinds)}::jsonb) AS k(kind)
    LEFT JOIN LATERAL (SELECT started_at, finished_at, outcome FROM sync_runs WHERE kind = k.kind
                       ORDER BY started_at DESC LIMIT 1) r ON true`,
  );
  const byKind = new Map(runs.map((run) => [run.kind, run]));
  const lastRuns: Record<string, RunBrief | null> = {};
  for (const kind of kinds) {
    const run = byKind.get(kind);
    lastRuns[kind] = run?.started_at ? { startedAt: iso(run.started_at)!, finishedAt: iso(run.finished_at), outcome: run.outcome! } : null;
  }
  return {
    ok: true,
    db: "ok",
    pending: Number(r.pending),
    oldestPendingSeconds: r.oldest === null ? null : Math.max(0, Math.floor((now.getTime() - new Date(r.oldest).getTime()) / 1000)),
    failed24h: Number(r.failed24h),
    staleKeys: Number(r.stale),
    lastRuns,
    overridden: Number(r.overridden),
    paused: { platforms: Number(r.paused_platforms), links: Number(r.paused_links) },
  };
}
