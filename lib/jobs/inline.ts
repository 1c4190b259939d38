/**
 * Runs a job to completion in this process: a sync_runs row, the handler on the inline runner,
 * the summary the cron routes and the CLI print. One run of a kind at a time per process.
 */
import { getDb } from "../db/client";
import { backfillHandler, type BackfillOutcome, type BackfillRequest } from "./backfill";
import { EVENTS, type JobEvent, type JobKind } from "./events";
import { pushContextUnit } from "./push-context";
import { pushGradesHandler } from "./push-grades";
import { refreshRostersHandler } from "./refresh-rosters";
import { retryFailedHandler } from "./retry-failed";
import { inlineRunner } from "./runner";
import { addRunCounts, exclusive, failRun, finishRun, pendingIn, runSummary, startRun, type RunSummary } from "./runs";

export interface JobInput {
  /** Limit to these contexts (the CLI's --context). */
  contextRefs?: string[] | null;
  backfill?: BackfillRequest;
}

export type InlineResult = RunSummary & { backfill?: BackfillOutcome; details?: Record<string, unknown> };

const dispatch = (event: JobEvent) => {
  if (event.name !== EVENTS.pushContext) throw new Error(`no inline handler for ${event.name}`);
  return pushContextUnit(event.data.contextRef, event.data.runId ?? null);
};

export async function runJobInline(kind: JobKind, input: JobInput, trigger: string): Promise<InlineResult> {
  const db = await getDb();
  const contextRefs = input.contextRefs ?? null;
  return exclusive(
    kind,
    () => startRun(db, kind, trigger, contextRefs?.length === 1 ? contextRefs[0] : null),
    async (runId) => {
      const runner = inlineRunner(dispatch);
      try {
        let extra: Partial<InlineResult> = {};
        let scope: string[] | null = contextRefs;
        let runError: string | undefined;
        switch (kind) {
          case "push-grades": {
            const r = await pushGradesHandler(runner, { runId, contextRefs }, db);
            extra.details = { contexts: r.contexts };
            break;
          }
          case "retry-failed": {
            const r = await retryFailedHandler(runner, { runId, contextRefs }, db);
            await addRunCounts(db, runId, { reset: r.reset });
            extra.details = { reset: r.reset, contexts: r.contexts };
            break;
          }
          case "backfill": {
            if (!input.backfill) throw new Error("backfill needs a selector or scores");
            const r = await backfillHandler(runner, { runId, request: input.backfill }, db);
            await addRunCounts(db, runId, { revised: r.revised });
            extra = { backfill: r };
            // What is left pending elsewhere (a course waiting for a relaunch) is not this run's doing.
            scope = r.contextRefs;
            break;
          }
          case "refresh-rosters": {
            const r = await refreshRostersHandler(runner, { runId, contextRefs }, db);
            await addRunCounts(db, runId, r.counts);
            runError = r.error;
            scope = [];
            break;
          }
        }
        const pending = scope && scope.length === 0 ? 0 : await pendingIn(db, scope);
        const sofar = await runSummary(db, runId);
        const outcome = sofar.counts.failed > 0 || pending > 0 ? "partial" : "completed";
        return { ...(await finishRun(db, runId, outcome, { pending, error: runError })), ...extra };
      } catch (error) {
        await failRun(db, runId, error);
        throw error;
      }
    },
  );
}
