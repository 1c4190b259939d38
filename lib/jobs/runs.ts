/**
 * The run lifecycle, one for both engines: a run is a sync_runs row with its units (sync_run_units).
 * It starts with one unit of its own — the run's own body, or for a run of one context (Sync now, a
 * debounced push) that context — and registers one unit per context before it fans out. Each unit,
 * when done, adds its counts once (a retried finish adds nothing twice); the last one settles the run
 * by the one outcome rule. A run whose own body throws (or gives up under Inngest) is failed.
 */
import { createHash, randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { describeError } from "../log";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";
import { env } from "../env";
import { alertsEnabled, evaluateAlertsQuietly, requestAlerts, within } from "../alerts";
import type { StepRunner } from "./definition";

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
  counts: RunCounts & Record<string, number>;
  error?: string | null;
  /** What an operator should know about a run that ended (e.g. LTIAAS unreachable). */
  note?: string;
}

/**
 * A run that sent nothing because LTIAAS could not be reached (its `unreachable` count: requests
 * that never connected) says so in words; the rows it left are pending, their attempts untouched.
 */
export function unreachableNote(counts: Partial<Record<string, number>>, ltiaasUrl: string): string | undefined {
  const n = (k: string) => counts[k] ?? 0;
  if (n("unreachable") === 0 || n("sent") + n("skipped") + n("failed") > 0) return undefined;
  let origin = ltiaasUrl;
  try {
    origin = new URL(ltiaasUrl).origin;
  } catch {
    // Not a URL (it always is once env() parsed it): the value as configured.
  }
  return `LTIAAS unreachable at ${origin}: nothing sent, rows left pending`;
}

/**
 * The outcome rule: a run that did all its work completed; one that left rows pending, had a row
 * fail, or had a unit give up after its retries is partial. (A run whose own body threw is failed.)
 */
export function runOutcome(t: { failed: number; pending: number; gaveUp: number }): "completed" | "partial" {
  return t.failed > 0 || t.pending > 0 || t.gaveUp > 0 ? "partial" : "completed";
}

/** The unit key of a run's own body (units of contexts are keyed by the context's id). */
export const SELF = "self";

/**
 * Starts a run. Under an engine that retries (Inngest) the id comes from the engine's run id, so a
 * retried step finds the same run, and a failure handler — which sees only the engine's id — finds
 * it too. `unit` is the run's first unit: SELF, or the context of a run of one context.
 */
export async function startRun(
  db: Db,
  input: { kind: string; trigger: string; contextRef?: string | null; engineRunId?: string; unit: string },
): Promise<string> {
  const id = input.engineRunId ? ownRunId(input.engineRunId) : randomUUID();
  await db.execute(sql`WITH r AS (
      INSERT INTO sync_runs (id, kind, trigger, context_ref)
      VALUES (${id}::uuid, ${input.kind}::text, ${input.trigger}::text, ${input.contextRef ?? null}::uuid)
      ON CONFLICT (id) DO NOTHING RETURNING id)
    INSERT INTO sync_run_units (run_id, context_ref) VALUES (${id}::uuid, ${unitRef(id, input.unit)}::uuid) ON CONFLICT DO NOTHING`);
  return id;
}

/** A run's own body is stored as a unit keyed by the run's id (no context has it). */
const unitRef = (runId: string, unit: string) => (unit === SELF ? runId : unit);

/** A UUID (version 8: name-based, custom) derived from an engine's run id. */
export function ownRunId(engineRunId: string): string {
  const h = createHash("sha256").update(`gradesync-run:${engineRunId}`).digest("hex");
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** `counts || {k: counts.k + v, …}`: adds to a run's counts in one expression (keys checked). */
function countsPlus(counts: Partial<Record<string, number>>) {
  // A zero adds nothing but names the count: a run says "resent 0", not nothing.
  const entries = Object.entries(counts).filter(([k, v]) => typeof v === "number" && Number.isFinite(v) && /^[a-z_]+$/i.test(k));
  if (!entries.length) return sql`counts`;
  const pairs = sql.join(
    entries.map(([k, v]) => sql`${k}::text, coalesce((counts->>${k}::text)::int, 0) + ${v}::int`),
    sql`, `,
  );
  return sql`counts || jsonb_build_object(${pairs})`;
}

/** Before a fan-out: one unit per context (idempotent, for a retried step). */
export async function expectUnits(db: Db, runId: string, contextRefs: string[]): Promise<void> {
  if (!contextRefs.length) return;
  await db.execute(sql`INSERT INTO sync_run_units (run_id, context_ref)
    SELECT ${runId}::uuid, c::uuid FROM jsonb_array_elements_text(${JSON.stringify(contextRefs)}::jsonb) AS c
    ON CONFLICT DO NOTHING`);
}

/**
 * A unit is done: its counts are added once — a step retried after a crash finds its unit already
 * done and adds nothing — and the run is settled if no unit is left (again on a retry: the first
 * try may have failed between marking and settling). `error` marks a unit that gave up. True when
 * this call ended the run (its caller then calls runEnded).
 */
export async function unitDone(
  db: Db,
  runId: string,
  unit: string,
  counts: Partial<Record<string, number>>,
  error: string | null = null,
): Promise<boolean> {
  const ref = unitRef(runId, unit);
  await db.execute(sql`WITH u AS (
      UPDATE sync_run_units SET done_at = now(), error = ${error}::text
      WHERE run_id = ${runId}::uuid AND context_ref = ${ref}::uuid AND done_at IS NULL RETURNING 1
    )
    UPDATE sync_runs SET counts = ${countsPlus(counts)} WHERE id = ${runId}::uuid AND EXISTS (SELECT 1 FROM u)`);
  return settleIfDone(db, runId);
}

/** The run's error when units gave up: how many, and what they ran into (each named by describeError). */
function gaveUpError(n: number, causes: string | null): string {
  const head = `${n} context(s) gave up after their retries`;
  return causes ? `${head}: ${causes.length > 300 ? `${causes.slice(0, 299)}…` : causes}` : head;
}

/**
 * Ends the run once none of its units is left, by the outcome rule. Only the first of two
 * concurrent callers settles it (and is answered true); a run already settled (or failed) is left as it is.
 */
async function settleIfDone(db: Db, runId: string): Promise<boolean> {
  // Every unit calls this as it finishes: while any is left, one probe of the partial index answers.
  const [open] = await rowsOf<{ left: boolean }>(
    db,
    sql`SELECT EXISTS (SELECT 1 FROM sync_run_units WHERE run_id = ${runId}::uuid AND done_at IS NULL) AS left`,
  );
  if (open?.left) return false;
  const [r] = await rowsOf<{ counts: Record<string, number> | string; gave_up: number; causes: string | null }>(
    db,
    sql`SELECT r.counts, (SELECT count(error)::int FROM sync_run_units WHERE run_id = r.id) AS gave_up,
          (SELECT string_agg(DISTINCT e.error, '; ') FROM (SELECT error FROM sync_run_units WHERE run_id = r.id AND error IS NOT NULL LIMIT 20) e) AS causes
        FROM sync_runs r WHERE r.id = ${runId}::uuid AND r.outcome = 'running'`,
  );
  if (!r) return false;
  const counts = parseCounts(r.counts);
  const gaveUp = Number(r.gave_up);
  const outcome = runOutcome({ failed: counts.failed ?? 0, pending: counts.pending ?? 0, gaveUp });
  const settled = await rowsOf<{ id: string }>(
    db,
    sql`UPDATE sync_runs SET outcome = ${outcome}::text, finished_at = now(),
      counts = counts || jsonb_build_object('pending', ${counts.pending ?? 0}::int),
      error = ${gaveUp > 0 ? gaveUpError(gaveUp, r.causes) : null}::text
    WHERE id = ${runId}::uuid AND outcome = 'running'
      AND NOT EXISTS (SELECT 1 FROM sync_run_units WHERE run_id = ${runId}::uuid AND done_at IS NULL)
    RETURNING id`,
  );
  return settled.length > 0;
}

/**
 * A run's own body threw, or failed for good under Inngest: failed, unless its units already
 * settled it. Only the error's name (or database condition) is kept: its message may quote an LMS's
 * answer. True when this call ended the run (its caller then calls runEnded).
 */
export async function runFailed(db: Db, runId: string, error: unknown): Promise<boolean> {
  const name = typeof error === "string" && error ? error : describeError(error);
  const failed = await rowsOf<{ id: string }>(
    db,
    sql`UPDATE sync_runs SET outcome = 'failed', finished_at = now(), error = ${name}::text
      WHERE id = ${runId}::uuid AND outcome = 'running' RETURNING id`,
  );
  return failed.length > 0;
}

/** How long a run's end waits for its alerts where it cannot leave them running (see runEnded). */
export const RUN_END_ALERTS_WAIT_MS = 10_000;

/**
 * A run ended (settled or failed): operators' alerts are evaluated (lib/alerts), never failing the
 * run nor holding up its settle. Inline the evaluation runs in the background (this process lives
 * on; the command line waits for it before it exits). Under Inngest a process may stop once its
 * step answered, so it is a step of its own after the settle's — memoised, and it never throws —
 * or, outside a step (onFailure), awaited for at most RUN_END_ALERTS_WAIT_MS.
 */
export async function runEnded(deps: { db: Db; engine: "inline" | "inngest" }, step?: Pick<StepRunner, "run">): Promise<void> {
  if (!alertsEnabled()) return;
  if (deps.engine === "inline") {
    void requestAlerts(deps.db);
    return;
  }
  if (step) await step.run("alerts", () => evaluateAlertsQuietly(deps.db));
  else await within(requestAlerts(deps.db), RUN_END_ALERTS_WAIT_MS);
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

/** Pending rows left in these contexts (from the counters). */
export async function pendingIn(db: Db, contextRefs: string[]): Promise<number> {
  if (!contextRefs.length) return 0;
  const [r] = await rowsOf<{ n: number | null }>(
    db,
    sql`SELECT sum(pending)::int AS n FROM grade_counters WHERE context_ref IN (SELECT (jsonb_array_elements_text(${JSON.stringify(contextRefs)}::jsonb))::uuid)`,
  );
  return Number(r?.n ?? 0);
}

function parseCounts(c: Record<string, number> | string): Record<string, number> {
  return typeof c === "string" ? JSON.parse(c) : c;
}

export async function runSummary(db: Db, runId: string): Promise<RunSummary> {
  const [r] = await rowsOf<{
    id: string;
    kind: string;
    outcome: RunOutcome;
    started_at: Date | string;
    finished_at: Date | string | null;
    counts: Record<string, number> | string;
    error: string | null;
  }>(db, sql`SELECT id, kind, outcome, started_at, finished_at, counts, error FROM sync_runs WHERE id = ${runId}::uuid`);
  const counts = parseCounts(r.counts);
  const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
  const note = r.outcome === "running" ? undefined : unreachableNote(counts, env().ltiaasUrl);
  return {
    runId: r.id,
    kind: r.kind,
    outcome: r.outcome,
    startedAt: iso(r.started_at)!,
    finishedAt: iso(r.finished_at),
    counts: { ...counts, sent: counts.sent ?? 0, skipped: counts.skipped ?? 0, failed: counts.failed ?? 0, pending: counts.pending ?? 0 },
    error: r.error,
    ...(note ? { note } : {}),
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
