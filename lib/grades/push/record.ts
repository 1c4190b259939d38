/**
 * Recording what the LMS answered: the row's state machine, one statement per answer (or per batch of
 * sent answers) that updates the row and writes its audit row together. Every statement checks the
 * row is still leased by this chunk (its token), and keeps a revision recorded meanwhile pending.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { rowsOf } from "../../db/rows";
import { MAX_ATTEMPTS, SENT_BATCH, type PushDeps } from "./deps";

/** Rows due to be sent now: pending, not leased, not waiting (backoff), updated over a second ago. */
export const DUE = sql`state = 'pending' AND (lease_until IS NULL OR lease_until < now())
  AND (next_attempt_at IS NULL OR next_attempt_at <= now())
  AND (last_sent_at IS NULL OR last_sent_at <= now() - interval '1 second')`;

/** Whether rows of the link are due now, else in how many ms the next one will be (null: none pending). */
export async function nextDue(db: Db, linkRef: string): Promise<{ more: boolean; waitMs: number | null }> {
  const [r] = await rowsOf<{ due: boolean }>(
    db,
    sql`SELECT EXISTS (SELECT 1 FROM grade_rows WHERE resource_link_ref = ${linkRef}::uuid AND ${DUE}) AS due`,
  );
  if (r?.due) return { more: true, waitMs: null };
  // Nothing due: the rows still pending are waiting (backoff, spacing, a lease) — usually few.
  const [w] = await rowsOf<{ wait_ms: number | null }>(
    db,
    sql`SELECT ceil(extract(epoch FROM min(greatest(coalesce(next_attempt_at, now()), coalesce(lease_until, now()),
              coalesce(last_sent_at + interval '1 second', now()))) - now()) * 1000)::int AS wait_ms
        FROM grade_rows WHERE resource_link_ref = ${linkRef}::uuid AND state = 'pending'`,
  );
  return { more: false, waitMs: w?.wait_ms === null || w?.wait_ms === undefined ? null : Math.max(0, Number(w.wait_ms)) };
}

async function audit(
  deps: PushDeps,
  update: ReturnType<typeof sql>,
  rowId: number,
  revision: number,
  outcome: string,
  status: number | null,
  latency: number | null,
  code: string | null,
) {
  await deps.db.execute(sql`WITH u AS (${update} RETURNING id)
    INSERT INTO sync_attempts (run_id, grade_row_id, revision, http_status, outcome, latency_ms, error_code)
    VALUES (${deps.runId}::uuid, ${rowId}::bigint, ${revision}::int, ${status}::int, ${outcome}::text, ${latency}::int, ${code}::text)`);
}

export interface SentAnswer {
  id: number;
  rev: number;
  graded: boolean;
  latency: number;
}

async function recordSentBatch(deps: PushDeps, token: string, batch: SentAnswer[]) {
  // A newer revision recorded meanwhile keeps the row pending (sent next, at least a second later),
  // unless it would clear the grade just sent.
  await deps.db.execute(sql`WITH x AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(batch)}::jsonb) AS x(id bigint, rev int, graded boolean, latency int)
    ), u AS (
      UPDATE grade_rows g SET
        state = CASE WHEN g.revision = x.rev THEN 'sent'
                     WHEN x.graded AND g.grading_progress <> 'FullyGraded' THEN 'skipped' ELSE 'pending' END,
        reason = CASE WHEN g.revision <> x.rev AND x.graded AND g.grading_progress <> 'FullyGraded' THEN 'would_clear_grade' END,
        pending_since = CASE WHEN g.revision = x.rev OR (x.graded AND g.grading_progress <> 'FullyGraded') THEN NULL ELSE g.pending_since END,
        sent_revision = x.rev, last_sent_at = now(), grade_sent = g.grade_sent OR x.graded,
        attempts = 0, next_attempt_at = NULL, failed_at = NULL,
        lease_token = NULL, lease_until = NULL, lease_revision = NULL, updated_at = now()
      FROM x WHERE g.id = x.id AND g.lease_token = ${token}::text
      RETURNING g.id)
    INSERT INTO sync_attempts (run_id, grade_row_id, revision, http_status, outcome, latency_ms)
    SELECT ${deps.runId}::uuid, x.id, x.rev, 204, 'sent', x.latency FROM x`);
}

export function recordSkipped(
  deps: PushDeps,
  rowId: number,
  token: string,
  revision: number,
  reason: string,
  status: number | null,
  latency: number | null,
) {
  return audit(
    deps,
    sql`UPDATE grade_rows SET
          state = CASE WHEN revision = ${revision}::int THEN 'skipped' ELSE 'pending' END,
          reason = CASE WHEN revision = ${revision}::int THEN ${reason}::text END,
          pending_since = CASE WHEN revision = ${revision}::int THEN NULL ELSE pending_since END,
          lease_token = NULL, lease_until = NULL, lease_revision = NULL, updated_at = now()
        WHERE id = ${rowId}::bigint AND lease_token = ${token}::text`,
    rowId,
    revision,
    "skipped",
    status,
    latency,
    reason.slice(0, 200),
  );
}

export function recordReleased(
  deps: PushDeps,
  rowId: number,
  token: string,
  revision: number,
  reason: string,
  outcome: string,
  status: number | null,
  latency: number | null,
) {
  return audit(
    deps,
    sql`UPDATE grade_rows SET reason = ${reason}::text, lease_token = NULL, lease_until = NULL, lease_revision = NULL, updated_at = now()
        WHERE id = ${rowId}::bigint AND lease_token = ${token}::text`,
    rowId,
    revision,
    outcome,
    status,
    latency,
    reason,
  );
}

export async function recordRetry(
  deps: PushDeps,
  rowId: number,
  token: string,
  revision: number,
  r: { reason: string; status: number | null; latency: number; waitMs?: number; countAttempt: boolean },
): Promise<boolean> {
  const inc = r.countAttempt ? 1 : 0;
  const [row] = await rowsOf<{ attempts: number }>(
    deps.db,
    sql`SELECT attempts FROM grade_rows WHERE id = ${rowId}::bigint AND lease_token = ${token}::text`,
  );
  const attempts = (row?.attempts ?? 0) + inc;
  const base = deps.backoffBaseMs;
  // Exponential backoff with full jitter on top of half the step, capped at 10 minutes.
  const backoff = Math.min(600_000, base * 2 ** Math.max(0, attempts - 1));
  const waitMs = Math.max(r.waitMs ?? 0, r.waitMs !== undefined && !r.countAttempt ? 0 : backoff / 2 + Math.random() * (backoff / 2));
  // Decided in the statement, against the row as it is now: a newer revision recorded since the
  // attempts were read starts afresh (the ledger reset its attempts) and is never failed with this one.
  const exhausted = sql`(revision = ${revision}::int AND attempts + ${inc}::int >= ${MAX_ATTEMPTS}::int)`;
  const [audited] = await rowsOf<{ outcome: string }>(
    deps.db,
    sql`WITH u AS (
        UPDATE grade_rows SET attempts = CASE WHEN revision = ${revision}::int THEN attempts + ${inc}::int ELSE attempts END,
          state = CASE WHEN ${exhausted} THEN 'failed' ELSE state END,
          reason = CASE WHEN ${exhausted} THEN ${`max_attempts: ${r.reason}`}::text ELSE ${r.reason}::text END,
          failed_at = CASE WHEN ${exhausted} THEN now() ELSE failed_at END,
          pending_since = CASE WHEN ${exhausted} THEN NULL ELSE pending_since END,
          next_attempt_at = now() + make_interval(secs => ${waitMs / 1000}::float8),
          lease_token = NULL, lease_until = NULL, lease_revision = NULL, updated_at = now()
        WHERE id = ${rowId}::bigint AND lease_token = ${token}::text
        RETURNING state)
      INSERT INTO sync_attempts (run_id, grade_row_id, revision, http_status, outcome, latency_ms, error_code)
      VALUES (${deps.runId}::uuid, ${rowId}::bigint, ${revision}::int, ${r.status}::int,
        CASE WHEN EXISTS (SELECT 1 FROM u WHERE state = 'failed') THEN 'failed' ELSE 'retry_later' END,
        ${r.latency}::int, ${r.reason.slice(0, 200)}::text)
      RETURNING outcome`,
  );
  return audited?.outcome === "failed";
}

export async function release(db: Db, rowId: number, token: string, notBefore?: Date) {
  await db.execute(sql`UPDATE grade_rows SET lease_token = NULL, lease_until = NULL, lease_revision = NULL,
      next_attempt_at = CASE WHEN ${notBefore?.toISOString() ?? null}::timestamptz IS NULL THEN next_attempt_at
                             ELSE greatest(coalesce(next_attempt_at, now()), ${notBefore?.toISOString() ?? null}::timestamptz) END
    WHERE id = ${rowId}::bigint AND lease_token = ${token}::text`);
}

/**
 * Sent answers are recorded in batches; a batch waiting is flushed at a quarter of the lease at the
 * latest: a chunk that stalls (platform held, slots busy) must not keep answers unrecorded until the
 * lease covering them runs out, or another run would send the same revision again.
 */
export class SentRecorder {
  private buffer: SentAnswer[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly deps: PushDeps,
    private readonly token: string,
  ) {}

  async add(answer: SentAnswer): Promise<void> {
    this.buffer.push(answer);
    if (this.buffer.length >= SENT_BATCH) await this.flush();
    else this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), this.deps.leaseMs / 4);
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer.splice(0);
    if (batch.length === 0) return this.flushing;
    this.flushing = this.flushing.then(async () => {
      await recordSentBatch(this.deps, this.token, batch);
      for (const b of batch) await this.deps.hook?.("recorded", b.id);
    });
    return this.flushing;
  }
}
