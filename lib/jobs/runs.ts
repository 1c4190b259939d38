/**
 * sync_runs: one row per job run with its counts, and the in-process registry that answers `409`
 * when the same kind is already running inline.
 */
import { sql } from "drizzle-orm";
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

/** Adds to a run's counts atomically (units of one run may finish concurrently). */
export async function addRunCounts(db: Db, runId: string, counts: Partial<Record<string, number>>): Promise<void> {
  const entries = Object.entries(counts).filter(([k, v]) => v && /^[a-z_]+$/i.test(k));
  if (!entries.length) return;
  const pairs = sql.join(
    entries.map(([k, v]) => sql`${k}::text, coalesce((counts->>${k}::text)::int, 0) + ${v}::int`),
    sql`, `,
  );
  await db.execute(sql`UPDATE sync_runs SET counts = counts || jsonb_build_object(${pairs}) WHERE id = ${runId}::uuid`);
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

/** A run that threw: only the error's name is kept (its message may quote an LMS's answer). */
export function failRun(db: Db, runId: string, error: unknown): Promise<RunSummary> {
  return finishRun(db, runId, "failed", { error: error instanceof Error ? error.name : "error" });
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
