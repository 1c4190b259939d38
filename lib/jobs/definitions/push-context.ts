/**
 * push-context: one context's push — every pending row, link by link, in chunks of at most 100
 * scores per step. A unit of a push-grades run, or a run of its own (Sync now; "soon" after scores
 * are recorded, debounced).
 */
import { sql } from "drizzle-orm";
import { prepareLinks, sendChunk, type PushDeps } from "../../grades/push";
import { MAX_CEILING } from "../../ltiaas/ceiling";
import { pendingIn, unitAttemptCounts } from "../runs";
import { defineJob, unitPayload, type JobContext } from "../definition";
import type { JobDeps } from "../deps";

export interface ContextTotals {
  sent: number;
  skipped: number;
  failed: number;
  retry: number;
  /** Rows not sent: the LMS holds a grade a person set there. */
  overridden: number;
  /** Rows left waiting because their link or platform is paused. */
  paused: number;
  /** Links not pushed: key needs a relaunch, no key, line item missing or unresolved. */
  blocked: number;
  /** Requests that never reached LTIAAS (connection refused, no such host). */
  unreachable: number;
  steps: number;
}

/** The push engine's view of the job's dependencies, for one run. */
export function pushDepsOf(deps: JobDeps, runId: string | null): PushDeps {
  return {
    db: deps.db,
    client: deps.ltiaas,
    gate: deps.gate,
    runId,
    // Inline, the gate bounds a platform across every job of this process. Under Inngest, steps may
    // live in many processes: the platform's concurrency key lets one step at a time send, as many in
    // parallel as the platform's window (read from the database) allows.
    parallel: MAX_CEILING,
    sharedPacing: deps.engine === "inngest",
    leaseMs: deps.push.leaseMs,
    backoffBaseMs: deps.push.backoffBaseMs,
    // Inline a short Retry-After is waited out; under Inngest the step ends and RetryAfterError reschedules it.
    maxHoldWaitMs: deps.engine === "inline" ? deps.push.maxWaitMs : 1_000,
    readBack: deps.push.readBack,
    hook: deps.push.hook,
  };
}

/** Waits inside one run for rows to become due again (backoff, spacing) before leaving them pending. */
const MAX_WAITS_PER_LINK = 20;

async function pushContext({ payload, step, deps, runId }: JobContext<{ contextRef: string }>): Promise<ContextTotals> {
  const push = pushDepsOf(deps, runId);
  const totals: ContextTotals = { sent: 0, skipped: 0, failed: 0, retry: 0, overridden: 0, paused: 0, blocked: 0, unreachable: 0, steps: 0 };
  const counted = <T>(id: string, fn: () => Promise<T>) => {
    totals.steps++;
    return step.run(id, fn);
  };
  const prepared = await counted("prepare", () => prepareLinks(push, payload.contextRef));
  for (const link of prepared.links) {
    if (link.state === "paused") {
      totals.paused += link.pending;
      continue;
    }
    if (link.state !== "ok" || !link.lineItemId) {
      totals.blocked++;
      if (link.unreachable) totals.unreachable++;
      continue;
    }
    let lineItemId = link.lineItemId;
    let waits = 0;
    for (let i = 0; ; i++) {
      const r = await counted(`send:${link.linkRef}:${i}`, () => sendChunk(push, { linkRef: link.linkRef, lineItemId }));
      totals.sent += r.sent;
      totals.skipped += r.skipped;
      totals.failed += r.failed;
      totals.retry += r.retry;
      totals.overridden += r.overridden;
      totals.unreachable += r.unreachable;
      if (r.lineItemId) lineItemId = r.lineItemId;
      if (r.stop) {
        totals.blocked++;
        break;
      }
      if (r.more) continue;
      if (r.waitMs !== null && r.waitMs <= deps.push.maxWaitMs && waits < MAX_WAITS_PER_LINK) {
        await step.sleep(`wait:${link.linkRef}:${waits++}`, Math.max(r.waitMs, 50));
        continue;
      }
      break;
    }
  }
  return totals;
}

export const pushContextJob = defineJob({
  kind: "push-context",
  id: "push-context",
  event: "gradesync/push-context.requested",
  payload: unitPayload,
  unitOf: "push-grades",
  flow: {
    retries: 4,
    concurrency: "per-platform-and-context",
    // Per platform: enough units that the window stays busy between one context and the next.
    inlineFanOut: 4,
    // Graded work does not wait for the nightly run: a burst of recorded scores becomes one push.
    soon: { id: "push-context-soon", event: "gradesync/context.changed", period: "20s", timeout: "1m", inlineDelayMs: 15_000 },
  },
  shows: {},
  handler: pushContext,
  async finish({ payload, deps, runId }, t) {
    await deps.db.execute(sql`UPDATE grade_counters SET last_run_id = ${runId}::uuid WHERE context_ref = ${payload.contextRef}::uuid`);
    return {
      sent: t.sent,
      skipped: t.skipped,
      failed: t.failed,
      retried: t.retry,
      overridden: t.overridden,
      paused: t.paused,
      unreachable: t.unreachable,
      pending: await pendingIn(deps.db, [payload.contextRef]),
    };
  },
  // Its finish never ran: what it sent before giving up is read from its attempts.
  gaveUpCounts: async ({ payload, deps, runId }) => ({
    ...(await unitAttemptCounts(deps.db, runId, payload.contextRef)),
    pending: await pendingIn(deps.db, [payload.contextRef]),
  }),
});
