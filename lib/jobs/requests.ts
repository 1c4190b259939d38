/**
 * What routes and pages ask of the jobs: push a course soon after its scores changed, refresh a
 * stale roster after a teacher's launch, the teacher's *Sync now* / *Retry failed*, and the
 * operator's *Reconcile now*. Each goes through the dispatcher; none of them knows which engine runs
 * the work.
 */
import { sql } from "drizzle-orm";
import { getDb } from "../db/client";
import { rowsOf } from "../db/rows";
import { env } from "../env";
import { overwriteShown, type ShownOverride } from "../grades/overwrite";
import { setPaused, type PauseResult, type PauseTarget } from "../grades/pause";
import { resetFailed } from "../grades/reset-failed";
import { rosterRefreshWanted } from "../roster/wanted";
import { dispatcher, type Dispatcher, type SoonAnswer } from "./dispatch";
import { pushContextJob } from "./definitions/push-context";
import { reconcileJob } from "./definitions/reconcile";
import { rosterContextJob } from "./definitions/roster-context";
import type { InlineRun } from "./inline";

/** Scores were recorded for these contexts: each is pushed within a minute (debounced). */
export function pushSoon(changed: readonly { contextRef: string; platformId: string }[], d: Dispatcher = dispatcher()): void {
  for (const c of changed) void d.soon(pushContextJob.kind, c);
}

/** After a teacher's launch: a stale roster is refreshed soon, outside the launch. Never throws. */
export async function refreshRosterSoon(contextRef: string, d: Dispatcher = dispatcher()): Promise<SoonAnswer | "not_needed" | "failed"> {
  try {
    if (d.waiting(rosterContextJob.kind).includes(contextRef)) return "already_scheduled";
    const wanted = await rosterRefreshWanted(await getDb(), contextRef, env().rosterMaxAgeHours);
    if (!wanted) return "not_needed";
    return await d.soon(rosterContextJob.kind, { contextRef, platformId: wanted.platformId });
  } catch {
    return "failed";
  }
}

export type SyncRequestResult =
  | { status: "done"; summary: InlineRun; joined: boolean; reset?: number }
  | { status: "queued"; eventId: string; reset?: number }
  | { status: "running_elsewhere"; runId: string; reset?: number };

/** A run older than this still marked running is taken to have crashed. */
const STALE_RUN_MS = 10 * 60 * 1000;

/**
 * One event id per button, course and minute: a second click joins the push it started (inline) or
 * is dropped by Inngest, and a click a minute later goes through (Inngest keeps an id for 24 h).
 */
function manualEventId(button: "push" | "retry" | "overwrite" | "resume", contextRef: string, now = new Date()): string {
  return `manual-${button}-${contextRef}-${Math.floor(now.getTime() / 60_000)}`;
}

async function runningPush(contextRef: string): Promise<string | null> {
  const [r] = await rowsOf<{ id: string }>(
    await getDb(),
    sql`SELECT id FROM sync_runs WHERE kind = 'push-grades' AND context_ref = ${contextRef}::uuid AND outcome = 'running'
          AND started_at > now() - make_interval(secs => ${STALE_RUN_MS / 1000}::float8)
        ORDER BY started_at DESC LIMIT 1`,
  );
  return r?.id ?? null;
}

async function platformIdOf(contextRef: string): Promise<string> {
  const [r] = await rowsOf<{ platform_id: string }>(
    await getDb(),
    sql`SELECT p.platform_id FROM contexts c JOIN platforms p ON p.id = c.platform_ref WHERE c.id = ${contextRef}::uuid`,
  );
  if (!r) throw new Error("unknown context");
  return r.platform_id;
}

async function pushNow(contextRef: string, button: "push" | "retry" | "overwrite", d: Dispatcher): Promise<SyncRequestResult> {
  const payload = { contextRef, platformId: await platformIdOf(contextRef), runId: null };
  const r = await d.enqueue(pushContextJob.kind, payload, { trigger: "manual", id: manualEventId(button, contextRef), join: true });
  return r.mode === "inngest" ? { status: "queued", eventId: r.eventId! } : { status: "done", summary: r.run, joined: r.joined };
}

/** *Sync now*: push every pending score of the course now (a push of it already running sends them too). */
export async function requestSync(contextRef: string, d: Dispatcher = dispatcher()): Promise<SyncRequestResult> {
  const other = await runningPush(contextRef);
  // The running push may be a click's own, started here while this one read: that one is joined.
  if (other && !d.joinable(pushContextJob.kind, manualEventId("push", contextRef))) return { status: "running_elsewhere", runId: other };
  return pushNow(contextRef, "push", d);
}

/**
 * *Retry failed*: failed rows of the course go back to pending, then the course is pushed — by a push
 * of its own, queued behind any push of the course already running (which may have listed its rows
 * before the reset).
 */
export async function requestRetryFailed(contextRef: string, d: Dispatcher = dispatcher()): Promise<SyncRequestResult> {
  const { reset } = await resetFailed(await getDb(), [contextRef]);
  return { ...(await pushNow(contextRef, "retry", d)), reset };
}

/**
 * The teacher's *Send Gradesync's score*: exactly the rows (and LMS values) the teacher was shown
 * become explicit overwrites, then the course is pushed. Rows that changed since are left alone.
 */
export async function requestOverwrite(
  resourceLinkRef: string,
  shown: ShownOverride[],
  d: Dispatcher = dispatcher(),
): Promise<{ overwritten: number; changed: string[]; push: SyncRequestResult | null }> {
  const r = await overwriteShown(await getDb(), resourceLinkRef, shown);
  const push = r.contextRef ? await pushNow(r.contextRef, "overwrite", d) : null;
  return { overwritten: r.overwritten, changed: r.changed, push };
}

/**
 * Pause or resume a link (the teacher) or a platform (an operator). Resuming starts a push of what
 * waited at once.
 */
export async function requestPause(target: PauseTarget, paused: boolean, d: Dispatcher = dispatcher()): Promise<PauseResult & { pushed: number }> {
  const r = await setPaused(await getDb(), target, paused);
  for (const c of r.contexts) await d.enqueue(pushContextJob.kind, { ...c, runId: null }, { trigger: "manual", id: manualEventId("resume", c.contextRef) });
  return { ...r, pushed: r.contexts.length };
}

/**
 * The operator's *Reconcile now* on /admin: every line item Gradesync sent to is read back and
 * compared (inline, to its end; under Inngest, queued). One event id per minute: a double click
 * runs it once.
 */
export async function requestReconcile(d: Dispatcher = dispatcher(), now = new Date()): Promise<SyncRequestResult> {
  const id = `manual-reconcile-${Math.floor(now.getTime() / 60_000)}`;
  const r = await d.enqueue(reconcileJob.kind, { contextRefs: null }, { trigger: "manual", id, join: true });
  return r.mode === "inngest" ? { status: "queued", eventId: r.eventId! } : { status: "done", summary: r.run, joined: r.joined };
}
