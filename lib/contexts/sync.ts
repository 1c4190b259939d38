/**
 * The teacher's buttons: *Sync now* and *Retry failed* for one course. Idempotent: a second click
 * while a push of that course runs joins it (inline) or is dropped by the event id (Inngest), so
 * two clicks never run two pushes of one course at once. The caller has already checked who is asking.
 */
import { sql } from "drizzle-orm";
import { getDb } from "../db/client";
import { env } from "../env";
import { EVENTS } from "../jobs/events";
import { pushContextInline } from "../jobs/push-context";
import { resetFailed } from "../jobs/retry-failed";
import type { RunSummary } from "../jobs/runs";
import { rowsOf } from "../db/rows";

export type SyncRequestResult =
  | { status: "done"; summary: RunSummary; joined: boolean; reset?: number }
  | { status: "queued"; eventId: string; reset?: number }
  | { status: "running_elsewhere"; runId: string; reset?: number };

const holder = globalThis as unknown as { __gradesyncManualPushes?: Map<string, Promise<RunSummary>> };
const inflight = (holder.__gradesyncManualPushes ??= new Map());

/** A run older than this still marked running is taken to have crashed. */
const STALE_RUN_MS = 10 * 60 * 1000;

/** Inngest keeps an event id for 24 h: one id per context per minute lets a later click through. */
function manualEventId(kind: string, contextRef: string, now = new Date()): string {
  return `manual-${kind}-${contextRef}-${Math.floor(now.getTime() / 60_000)}`;
}

async function runningPush(contextRef: string): Promise<string | null> {
  const db = await getDb();
  const [r] = await rowsOf<{ id: string }>(
    db,
    sql`SELECT id FROM sync_runs WHERE kind = 'push-grades' AND context_ref = ${contextRef}::uuid AND outcome = 'running'
          AND started_at > now() - make_interval(secs => ${STALE_RUN_MS / 1000}::float8)
        ORDER BY started_at DESC LIMIT 1`,
  );
  return r?.id ?? null;
}

async function platformIdOf(contextRef: string): Promise<string> {
  const db = await getDb();
  const [r] = await rowsOf<{ platform_id: string }>(
    db,
    sql`SELECT p.platform_id FROM contexts c JOIN platforms p ON p.id = c.platform_ref WHERE c.id = ${contextRef}::uuid`,
  );
  if (!r) throw new Error("unknown context");
  return r.platform_id;
}

/**
 * Push every pending score of the course now. `kind` keeps the two buttons' event ids apart: a
 * Retry failed pressed in the minute after a Sync now would otherwise carry the same id, be dropped
 * by Inngest, and leave the rows it just re-queued waiting for the nightly run.
 */
export async function requestSync(contextRef: string, kind: "push" | "retry" = "push"): Promise<SyncRequestResult> {
  if (env().jobsMode === "inngest") {
    const { sendJobEvent } = await import("../inngest/client");
    const id = manualEventId(kind, contextRef);
    await sendJobEvent(EVENTS.pushContext, { contextRef, platformId: await platformIdOf(contextRef), runId: null }, id);
    return { status: "queued", eventId: id };
  }
  const existing = inflight.get(contextRef);
  let run: Promise<RunSummary>;
  if (existing) run = existing;
  else {
    // Registered before the first await, so two clicks in one tick cannot both start a push.
    run = Promise.resolve().then(async () => {
      const other = await runningPush(contextRef);
      if (other) throw new RunningElsewhere(other);
      return pushContextInline(contextRef, "manual");
    });
    inflight.set(contextRef, run);
  }
  try {
    return { status: "done", summary: await run, joined: Boolean(existing) };
  } catch (error) {
    if (error instanceof RunningElsewhere) return { status: "running_elsewhere", runId: error.runId };
    throw error;
  } finally {
    if (!existing && inflight.get(contextRef) === run) inflight.delete(contextRef);
  }
}

class RunningElsewhere extends Error {
  constructor(readonly runId: string) {
    super("a push of this course is already running");
  }
}

/** Failed rows of the course go back to pending, then the course is pushed. */
export async function requestRetryFailed(contextRef: string): Promise<SyncRequestResult> {
  const db = await getDb();
  const { reset } = await resetFailed(db, [contextRef]);
  let result = await requestSync(contextRef, "retry");
  // Joined a push that prepared its links before the reset: it skips a link that had nothing
  // pending then, so the re-queued rows would wait for the nightly run. That push is over now.
  if (result.status === "done" && result.joined && reset > 0) result = await requestSync(contextRef, "retry");
  return { ...result, reset };
}
