/**
 * What is wrong right now, read from the database only — the trigger-kept counters, the keys, the
 * runs and the throttling minutes — never a scan of the ledger. Each condition is about one subject:
 * a resource link, a platform (`throttled`), or a kind of run (`run_failed`: of one context when the
 * run covered one, else of the whole tool).
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf, toDate, toNumber } from "../db/rows";

/** In the order operators should read them (a capped evaluation sends the first ones first). */
export const ALERT_CONDITIONS = ["needs_relaunch", "failing", "run_failed", "throttled", "pending_too_long", "overridden"] as const;
export type AlertCondition = (typeof ALERT_CONDITIONS)[number];

/** Who a condition is about, as the messages name it (a platform-wide one has no context or link). */
export interface AlertTarget {
  platformId: string | null;
  contextId: string | null;
  resourceLinkId: string | null;
  /** The link's title, else the course's; a platform's name. */
  title: string | null;
  /** run_failed: the kind of run. */
  kind?: string;
}

export type AlertDetail = Record<string, string | number | boolean | null>;

export interface Condition {
  condition: AlertCondition;
  /** `link:<id>`, `platform:<id>` or `run:<kind>:<context id | all>` (ids: Gradesync's). */
  subject: string;
  target: AlertTarget;
  detail: AlertDetail;
}

export interface ConditionOptions {
  now: Date;
  /** ALERT_PENDING_MINUTES. */
  pendingMinutes: number;
}

/** A platform refused for throttling in more than this many minutes of the last hour. */
export const THROTTLED_MINUTES = 15;
/** Failed runs are looked for this far back; one already raised stays until a later run does not fail. */
export const RUN_FAILED_LOOKBACK_DAYS = 7;

export async function currentConditions(db: Db, opts: ConditionOptions): Promise<Condition[]> {
  const [links, runs, throttled] = await Promise.all([linkConditions(db, opts), runConditions(db, opts), throttleConditions(db, opts)]);
  return [...links, ...runs, ...throttled];
}

interface LinkRow {
  id: string;
  platform_id: string;
  context_id: string;
  resource_link_id: string;
  title: string | null;
  key_state: string | null;
  failed: number | string | null;
  line_item_state: string;
  drift_missing: number | string;
  overridden: number | string | null;
  pending: number | string | null;
  oldest_pending_at: Date | string | null;
  paused: boolean;
}

/** needs_relaunch, failing, overridden and pending_too_long, per resource link. */
async function linkConditions(db: Db, { now, pendingMinutes }: ConditionOptions): Promise<Condition[]> {
  const cutoff = new Date(now.getTime() - pendingMinutes * 60_000);
  // The WHERE keeps only links with something to say: one pass over links and their counters.
  const rows = await rowsOf<LinkRow>(
    db,
    sql`SELECT rl.id, p.platform_id, c.context_id, rl.resource_link_id, coalesce(rl.title, c.title) AS title,
          sk.state AS key_state, gc.failed, rl.line_item_state, rl.drift_missing, gc.overridden, gc.pending, gc.oldest_pending_at,
          (rl.paused_at IS NOT NULL OR p.paused_at IS NOT NULL) AS paused
        FROM resource_links rl JOIN contexts c ON c.id = rl.context_ref JOIN platforms p ON p.id = c.platform_ref
        LEFT JOIN service_keys sk ON sk.resource_link_ref = rl.id
        LEFT JOIN grade_counters gc ON gc.resource_link_ref = rl.id
        WHERE sk.state = 'needs_relaunch' OR gc.failed > 0 OR rl.line_item_state = 'missing' OR rl.drift_missing > 0 OR gc.overridden > 0
          OR (gc.pending > 0 AND gc.oldest_pending_at < ${cutoff.toISOString()}::timestamptz)`,
  );
  const out: Condition[] = [];
  for (const r of rows) {
    const target: AlertTarget = { platformId: r.platform_id, contextId: r.context_id, resourceLinkId: r.resource_link_id, title: r.title };
    const about = (condition: AlertCondition, detail: AlertDetail) => out.push({ condition, subject: `link:${r.id}`, target, detail });
    const pending = toNumber(r.pending);
    if (r.key_state === "needs_relaunch") about("needs_relaunch", { pending });
    const failed = toNumber(r.failed);
    const columnMissing = r.line_item_state === "missing";
    const driftMissing = toNumber(r.drift_missing);
    if (failed > 0 || columnMissing || driftMissing > 0) about("failing", { failed, columnMissing, driftMissing });
    const overridden = toNumber(r.overridden);
    if (overridden > 0) about("overridden", { overridden });
    const oldest = toDate(r.oldest_pending_at);
    // Paused rows wait on purpose (README, "Pause"): no pending alert for them.
    if (!r.paused && pending > 0 && oldest && oldest < cutoff)
      about("pending_too_long", { pending, oldestPendingAt: oldest.toISOString(), waitedMinutes: Math.floor((now.getTime() - oldest.getTime()) / 60_000), limitMinutes: pendingMinutes });
  }
  return out;
}

interface RunRow {
  kind: string;
  context_ref: string | null;
  run_id: string;
  error: string | null;
  finished_at: Date | string | null;
  platform_id: string | null;
  context_id: string | null;
  title: string | null;
}

/**
 * run_failed: the last run that ended, of a kind (and of a context, for runs that cover one), failed.
 * Candidates are recent failures (a partial index finds them) and the alerts still open, so one stays
 * raised until a later run of its kind does not fail.
 */
async function runConditions(db: Db, { now }: ConditionOptions): Promise<Condition[]> {
  const since = new Date(now.getTime() - RUN_FAILED_LOOKBACK_DAYS * 86_400_000);
  const rows = await rowsOf<RunRow>(
    db,
    sql`WITH cand AS (
          SELECT DISTINCT kind, context_ref FROM sync_runs
          WHERE outcome = 'failed' AND finished_at > ${since.toISOString()}::timestamptz
            -- now comes from a JS Date (whole milliseconds): a run that ended within that millisecond counts.
            AND date_trunc('milliseconds', finished_at) <= ${now.toISOString()}::timestamptz
          UNION
          SELECT target->>'kind', nullif(split_part(subject, ':', 3), 'all')::uuid FROM alerts
          WHERE condition = 'run_failed' AND state <> 'cleared' AND target->>'kind' IS NOT NULL
        )
        SELECT cand.kind, cand.context_ref, last.id AS run_id, last.error, last.finished_at,
               p.platform_id, c.context_id, c.title
        FROM cand
        CROSS JOIN LATERAL (
          (SELECT r.id, r.outcome, r.error, r.finished_at FROM sync_runs r
           WHERE cand.context_ref IS NOT NULL AND r.context_ref = cand.context_ref AND r.kind = cand.kind AND r.outcome <> 'running'
           ORDER BY r.started_at DESC LIMIT 1)
          UNION ALL
          (SELECT r.id, r.outcome, r.error, r.finished_at FROM sync_runs r
           WHERE cand.context_ref IS NULL AND r.context_ref IS NULL AND r.kind = cand.kind AND r.outcome <> 'running'
           ORDER BY r.started_at DESC LIMIT 1)
        ) last
        LEFT JOIN contexts c ON c.id = cand.context_ref LEFT JOIN platforms p ON p.id = c.platform_ref
        WHERE last.outcome = 'failed'`,
  );
  return rows.map((r) => ({
    condition: "run_failed" as const,
    subject: `run:${r.kind}:${r.context_ref ?? "all"}`,
    target: { platformId: r.platform_id, contextId: r.context_id, resourceLinkId: null, title: r.title, kind: r.kind },
    detail: { runId: r.run_id, error: r.error, finishedAt: toDate(r.finished_at)?.toISOString() ?? null },
  }));
}

/** throttled: distinct minutes with a throttling answer in the last hour, per platform. */
async function throttleConditions(db: Db, { now }: ConditionOptions): Promise<Condition[]> {
  const rows = await rowsOf<{ id: string; platform_id: string; name: string | null; minutes: number | string }>(
    db,
    sql`SELECT p.id, p.platform_id, p.name, t.minutes FROM platforms p
        CROSS JOIN LATERAL (
          SELECT count(DISTINCT date_trunc('minute', t.minute))::int AS minutes FROM platform_throttles t
          WHERE t.platform_ref = p.id AND t.answers > 0
            AND t.minute > ${now.toISOString()}::timestamptz - interval '1 hour' AND t.minute <= ${now.toISOString()}::timestamptz
        ) t
        WHERE t.minutes > ${THROTTLED_MINUTES}::int`,
  );
  return rows.map((r) => ({
    condition: "throttled" as const,
    subject: `platform:${r.id}`,
    target: { platformId: r.platform_id, contextId: null, resourceLinkId: null, title: r.name },
    detail: { minutes: toNumber(r.minutes) },
  }));
}
