/**
 * sync_runs: one row per job run with its counts, and the in-process registry that answers `409`
 * when the same kind is already running inline.
 */
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { describeError } from "../log";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";

export type RunOutcome = "running" | "completed" | "partial" | "failed";

export interface RunCounts {
  sent: number;
  skipped: number;
  failed: number;
  pending: number;
}

export interface RunSummary {
  runId: string;
  kind: string;
  outcome: RunOutcome;
  startedAt: string;
  finishedAt: string | null;
  counts: RunCounts;
  /** Extra facts of some kinds (backfill: revised, wouldSend, listed rows). */
  details?: Record<string, unknown>;
}

export async function startRun(db: Db, kind: string, trigger: string, contextRef: string | null = null): Promise<string> {
  const [row] = await rowsOf<{ id: string }>(
    db,
    sql`INSERT INTO sync_runs (kind, trigger, context_ref) VALUES (${kind}::text, ${trigger}::text, ${contextRef}::uuid) RETURNING id`,
  );
  return row.id;
}

/**
 * A run started by an engine that retries (Inngest): its id comes from the engine's run id, so a
 * retried step finds the same run, and a failure handler — which only sees the engine's id — finds
 * it too. A push or roster refresh of one context that is a run of its own (Sync now, the debounced
 * push after scores arrive) passes that context: it is the run's one unit.
 */
export async function startEngineRun(
  db: Db,
  input: { kind: string; trigger: string; engineRunId: string; contextRef?: string | null; unit?: boolean },
): Promise<string> {
  const id = ownRunId(input.engineRunId);
  await db.execute(sql`INSERT INTO sync_runs (id, kind, trigger, context_ref)
    VALUES (${id}::uuid, ${input.kind}::text, ${input.trigger}::text, ${input.contextRef ?? null}::uuid)
    ON CONFLICT (id) DO NOTHING`);
  if (input.unit && input.contextRef) await expectUnits(db, id, [input.contextRef]);
  return id;
}

/** A UUID (version 8: name-based, custom) derived from an engine's run id. */
export function ownRunId(engineRunId: string): string {
  const h = createHash("sha256").update(`gradesync-run:${engineRunId}`).digest("hex");
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** `counts || {k: counts.k + v, …}`: adds to a run's counts in one expression (keys checked). */
function countsPlus(counts: Partial<Record<string, number>>) {
  const entries = Object.entries(counts).filter(([k, v]) => v && /^[a-z_]+$/i.test(k));
  if (!entries.length) return sql`counts`;
  const pairs = sql.join(
    entries.map(([k, v]) => sql`${k}::text, coalesce((counts->>${k}::text)::int, 0) + ${v}::int`),
    sql`, `,
  );
  return sql`counts || jsonb_build_object(${pairs})`;
}

/** Adds to a run's counts atomically (units of one run may finish concurrently). */
export async function addRunCounts(db: Db, runId: string, counts: Partial<Record<string, number>>): Promise<void> {
  if (!Object.values(counts).some(Boolean)) return;
  await db.execute(sql`UPDATE sync_runs SET counts = ${countsPlus(counts)} WHERE id = ${runId}::uuid`);
}

// ─── runs fanned out as events (Inngest) ─────────────────────────────────────────────────────

/** Before a fan-out whose units run elsewhere: one row per unit (idempotent, for a retried step). */
export async function expectUnits(db: Db, runId: string, contextRefs: string[]): Promise<void> {
  if (!contextRefs.length) return;
  await db.execute(sql`INSERT INTO sync_run_units (run_id, context_ref)
    SELECT ${runId}::uuid, c::uuid FROM jsonb_array_elements_text(${JSON.stringify(contextRefs)}::jsonb) AS c
    ON CONFLICT DO NOTHING`);
}

/**
 * One context's part of a run is done: its counts are added once — a step retried after a crash
 * finds its unit already done and adds nothing — and a fanned-out run is settled if no unit is left
 * (again on a retry: the first try may have failed between marking and settling). A unit of an
 * inline run has no row: its counts are added and the inline run settles itself when its handler
 * returns.
 */
export async function unitDone(
  db: Db,
  runId: string,
  contextRef: string,
  counts: Partial<Record<string, number>>,
  error: string | null = null,
): Promise<void> {
  const [r] = await rowsOf<{ is_unit: boolean }>(
    db,
    sql`WITH unit AS (
        UPDATE sync_run_units SET done_at = now(), error = ${error}::text
        WHERE run_id = ${runId}::uuid AND context_ref = ${contextRef}::uuid AND done_at IS NULL RETURNING 1
      ), known AS (
        SELECT 1 FROM sync_run_units WHERE run_id = ${runId}::uuid AND context_ref = ${contextRef}::uuid
      ), counted AS (
        UPDATE sync_runs SET counts = ${countsPlus(counts)} WHERE id = ${runId}::uuid
          AND (EXISTS (SELECT 1 FROM unit) OR NOT EXISTS (SELECT 1 FROM known))
        RETURNING 1
      )
      SELECT EXISTS (SELECT 1 FROM known) AS is_unit`,
  );
  if (r?.is_unit) await settleIfDone(db, runId);
}

/** What a unit that gave up had done before it did, from its attempts (its counts were never added). */
export async function unitAttemptCounts(db: Db, runId: string, contextRef: string): Promise<Record<string, number>> {
  const rows = await rowsOf<{ outcome: string; n: number }>(
    db,
    sql`SELECT a.outcome, count(*)::int AS n FROM sync_attempts a JOIN grade_rows g ON g.id = a.grade_row_id
        WHERE a.run_id = ${runId}::uuid AND g.context_ref = ${contextRef}::uuid AND a.outcome IN ('sent', 'skipped', 'failed')
        GROUP BY a.outcome`,
  );
  return Object.fromEntries(rows.map((r) => [r.outcome, Number(r.n)]));
}

/** An engine's run that failed for good (its retries ran out) before it settled: failed, saying so. */
export async function engineRunFailed(db: Db, runId: string, errorName: string): Promise<void> {
  await db.execute(sql`UPDATE sync_runs SET outcome = 'failed', finished_at = now(), error = ${errorName}::text
    WHERE id = ${runId}::uuid AND outcome = 'running'`);
}

/**
 * Ends a fanned-out run once none of its units is left — at once when it has no units, so it must
 * not be called for an inline run (which finishes itself): `partial` when a row failed, rows are
 * left pending in its units' contexts, or a unit gave up. Only the first of two concurrent callers
 * settles it; a run already settled is left as it is.
 */
export async function settleIfDone(db: Db, runId: string): Promise<void> {
  // Every unit calls this as it finishes: while any is left, one index probe answers, instead of
  // counting the run's units (the partial index holds only the units not done).
  const [open] = await rowsOf<{ left: boolean }>(
    db,
    sql`SELECT EXISTS (SELECT 1 FROM sync_run_units WHERE run_id = ${runId}::uuid AND done_at IS NULL) AS left`,
  );
  if (open?.left) return;
  // Rosters leave no grade pending: their runs count contexts, not rows.
  await db.execute(sql`WITH u AS (
      SELECT count(*) FILTER (WHERE done_at IS NULL) AS left_, count(error) AS gave_up FROM sync_run_units WHERE run_id = ${runId}::uuid
    ), p AS (
      SELECT coalesce(sum(gc.pending), 0)::int AS n FROM grade_counters gc
      WHERE gc.context_ref IN (SELECT context_ref FROM sync_run_units WHERE run_id = ${runId}::uuid)
        AND (SELECT kind FROM sync_runs WHERE id = ${runId}::uuid) <> 'refresh-rosters'
    )
    UPDATE sync_runs r SET finished_at = now(),
      counts = r.counts || jsonb_build_object('pending', p.n),
      outcome = CASE WHEN coalesce((r.counts->>'failed')::int, 0) > 0 OR p.n > 0 OR u.gave_up > 0 THEN 'partial' ELSE 'completed' END,
      error = CASE WHEN u.gave_up > 0 THEN u.gave_up || ' context(s) gave up after their retries' END
    FROM u, p WHERE r.id = ${runId}::uuid AND r.outcome = 'running' AND u.left_ = 0`);
}

/** Pending rows left in the run's scope (from the counters). */
export async function pendingIn(db: Db, contextRefs: string[] | null): Promise<number> {
  const [r] = contextRefs
    ? await rowsOf<{ n: number | null }>(
        db,
        sql`SELECT sum(pending)::int AS n FROM grade_counters WHERE context_ref IN (SELECT (jsonb_array_elements_text(${JSON.stringify(contextRefs)}::jsonb))::uuid)`,
      )
    : await rowsOf<{ n: number | null }>(db, sql`SELECT sum(pending)::int AS n FROM grade_counters`);
  return Number(r?.n ?? 0);
}

export async function finishRun(
  db: Db,
  runId: string,
  outcome: Exclude<RunOutcome, "running">,
  extra: { pending?: number; error?: string } = {},
): Promise<RunSummary> {
  await db.execute(sql`UPDATE sync_runs SET outcome = ${outcome}::text, finished_at = now(), error = ${extra.error ?? null}::text,
      counts = counts || jsonb_build_object('pending', ${extra.pending ?? 0}::int)
    WHERE id = ${runId}::uuid`);
  return runSummary(db, runId);
}

/** A run that threw: its name or database condition is kept (never its message: it may quote an LMS's answer). */
export function failRun(db: Db, runId: string, error: unknown): Promise<RunSummary> {
  return finishRun(db, runId, "failed", { error: describeError(error) });
}

export async function runSummary(db: Db, runId: string): Promise<RunSummary> {
  const [r] = await rowsOf<{ id: string; kind: string; outcome: RunOutcome; started_at: Date | string; finished_at: Date | string | null; counts: Record<string, number> | string }>(
    db,
    sql`SELECT id, kind, outcome, started_at, finished_at, counts FROM sync_runs WHERE id = ${runId}::uuid`,
  );
  const counts = typeof r.counts === "string" ? JSON.parse(r.counts) : r.counts;
  const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
  return {
    runId: r.id,
    kind: r.kind,
    outcome: r.outcome,
    startedAt: iso(r.started_at)!,
    finishedAt: iso(r.finished_at),
    counts: { sent: counts.sent ?? 0, skipped: counts.skipped ?? 0, failed: counts.failed ?? 0, pending: counts.pending ?? 0 },
  };
}

/** A run still `running` this long after it started will not finish on its own. */
export const ABANDONED_AFTER_HOURS = 24;

/**
 * Ends the runs nothing will finish — the process running one inline stopped, or a unit's event
 * never ran or was cancelled — as `failed`, saying so; the rows they left are still pending. Their
 * unit rows stay as they were (a unit that still finishes adds its counts to the failed run).
 */
export async function abandonStaleRuns(db: Db, hours = ABANDONED_AFTER_HOURS): Promise<number> {
  const [r] = await rowsOf<{ n: number }>(
    db,
    sql`WITH a AS (UPDATE sync_runs SET outcome = 'failed', finished_at = now(),
          error = 'abandoned: still running after ' || ${hours}::int || ' h (its process stopped, or a unit never ran)'
        WHERE outcome = 'running' AND started_at < now() - make_interval(hours => ${hours}::int) RETURNING 1)
      SELECT count(*)::int AS n FROM a`,
  );
  return Number(r?.n ?? 0);
}

// ─── inline exclusivity ───────────────────────────────────────────────────────────────────────

export class AlreadyRunningError extends Error {
  constructor(readonly runId: string) {
    super(`already running (${runId})`);
    this.name = "AlreadyRunningError";
  }
}

const holder = globalThis as unknown as { __gradesyncRunning?: Map<string, Promise<string>> };
const running: Map<string, Promise<string>> = (holder.__gradesyncRunning ??= new Map());

/** Runs `fn` unless the same kind already runs in this process (then AlreadyRunningError). */
export async function exclusive<T>(kind: string, start: () => Promise<string>, fn: (runId: string) => Promise<T>): Promise<T> {
  const current = running.get(kind);
  if (current) {
    // A run still starting has no id yet: wait for it, so the 409 names a real run.
    const runId = await current.then(
      (id) => id,
      () => undefined,
    );
    if (runId !== undefined && running.get(kind) === current) throw new AlreadyRunningError(runId);
    return exclusive(kind, start, fn);
  }
  // Reserved synchronously so two callers in one tick cannot both start.
  const started = start();
  running.set(kind, started);
  try {
    return await fn(await started);
  } finally {
    if (running.get(kind) === started) running.delete(kind);
  }
}
