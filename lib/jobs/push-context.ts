/**
 * push-context: one unit of a push — every pending row of one context, link by link, in chunks of
 * at most 100 scores per step. The same handler runs under Inngest (steps) and inline.
 */
import { sql } from "drizzle-orm";
import { getDb } from "../db/client";
import { keyedLock } from "../keyed-lock";
import { prepareLinks, sendChunk, type PushDeps } from "../grades/push";
import { failRun, finishRun, pendingIn, startRun, unitDone, type RunSummary } from "./runs";
import { inlineRunner, type StepRunner } from "./runner";
import { pushDeps, pushTuning } from "./deps";

export interface ContextTotals {
  sent: number;
  skipped: number;
  failed: number;
  retry: number;
  /** Links not pushed: key needs a relaunch, no key, line item missing or unresolved. */
  blocked: number;
  steps: number;
}

export async function pushContextHandler(
  runner: StepRunner,
  input: { contextRef: string; runId?: string | null },
  deps: PushDeps,
): Promise<ContextTotals> {
  const totals: ContextTotals = { sent: 0, skipped: 0, failed: 0, retry: 0, blocked: 0, steps: 0 };
  const maxWaitMs = pushTuning().maxWaitMs;
  const step = <T>(id: string, fn: () => Promise<T>) => {
    totals.steps++;
    return runner.run(id, fn);
  };
  const prepared = await step("prepare", () => prepareLinks(deps, input.contextRef));
  for (const link of prepared.links) {
    if (link.state !== "ok" || !link.lineItemId) {
      totals.blocked++;
      continue;
    }
    let lineItemId = link.lineItemId;
    let waits = 0;
    for (let i = 0; ; i++) {
      const r = await step(`send:${link.linkRef}:${i}`, () => sendChunk(deps, { linkRef: link.linkRef, lineItemId }));
      totals.sent += r.sent;
      totals.skipped += r.skipped;
      totals.failed += r.failed;
      totals.retry += r.retry;
      if (r.lineItemId) lineItemId = r.lineItemId;
      if (r.stop) {
        totals.blocked++;
        break;
      }
      if (r.more) continue;
      if (r.waitMs !== null && r.waitMs <= maxWaitMs && waits < 20) {
        await runner.sleep(`wait:${link.linkRef}:${waits++}`, Math.max(r.waitMs, 50));
        continue;
      }
      break;
    }
  }
  await step("finish", async () => {
    if (input.runId) {
      await unitDone(deps.db, input.runId, input.contextRef, { sent: totals.sent, skipped: totals.skipped, failed: totals.failed, retried: totals.retry });
      await deps.db.execute(sql`UPDATE grade_counters SET last_run_id = ${input.runId}::uuid WHERE context_ref = ${input.contextRef}::uuid`);
    }
    return null;
  });
  return totals;
}

// One unit per context at a time in this process (Inngest: concurrency key per context, limit 1).
export const withContextLock = keyedLock("push-context");

/** Inline unit of a larger run (push-grades, backfill, retry-failed fan out to this). */
export function pushContextUnit(contextRef: string, runId: string | null): Promise<ContextTotals> {
  return withContextLock(contextRef, async () => {
    const deps = await pushDeps(runId, "inline");
    return pushContextHandler(inlineRunner(() => Promise.resolve()), { contextRef, runId }, deps);
  });
}

/** A push of one context as a run of its own (the debounced push after scores are recorded). */
export async function pushContextInline(contextRef: string, trigger: string): Promise<RunSummary> {
  const db = await getDb();
  const runId = await startRun(db, "push-grades", trigger, contextRef);
  try {
    const totals = await pushContextUnit(contextRef, runId);
    const pending = await pendingIn(db, [contextRef]);
    return finishRun(db, runId, totals.failed > 0 || pending > 0 ? "partial" : "completed", { pending });
  } catch (error) {
    await failRun(db, runId, error);
    throw error;
  }
}
