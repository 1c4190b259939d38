/**
 * refresh-rosters: every context whose roster is stale (or the ones named), one refresh each.
 * Inline, contexts run here a few at a time (the platform gate bounds each platform); under
 * Inngest, each context is an event for the roster-context function, whose concurrency key per
 * platform is the one pushes use.
 */
import type { Db } from "../db/client";
import { EVENTS, type RosterContextData } from "../jobs/events";
import type { StepRunner } from "../jobs/runner";
import { addRunCounts, failRun, finishRun, startEngineRun, startRun, unitDone, type RunSummary } from "../jobs/runs";
import { getDb } from "../db/client";
import { describeError } from "../log";
import { refreshContext, rosterDeps, withRosterLock, type ContextOutcome } from "./refresh";
import { listRosterTargets } from "./targets";

export interface RefreshRostersInput {
  runId: string | null;
  /** Only these contexts (context ids or /api/status resource link ids), refreshed whatever their age. */
  contextRefs?: string[] | null;
  /** inline (default): refresh here; events: send one roster-context event per due context. */
  fanOut?: "inline" | "events";
}

export interface RefreshRostersResult {
  counts: Record<string, number>;
  /** Inline: what happened to each context. */
  outcomes: ContextOutcome[];
  /** Events: contexts handed to the roster-context function. */
  queued: number;
  /** Inline: what the contexts that failed unexpectedly ran into, for the run's error. */
  error?: string;
}

/** Run counts: refreshed/skipped/failed contexts, reasons, members seen, memberships made Inactive. */
export function tally(outcomes: readonly ContextOutcome[]): Record<string, number> {
  const counts: Record<string, number> = { refreshed: 0, skipped: 0, failed: 0 };
  const add = (k: string, n = 1) => (counts[k] = (counts[k] ?? 0) + n);
  for (const o of outcomes) {
    add(o.outcome);
    if (o.outcome === "refreshed") {
      add("members", o.members);
      add("inactivated", o.inactivated);
      if (o.dropped) add("dropped", o.dropped);
      if (o.retried) add("retried", o.retried);
    } else if (o.outcome === "skipped") add(`skipped_${o.reason}`);
    else {
      add(`failed_${o.reason}`);
      if (o.retried) add("retried", o.retried);
    }
  }
  return counts;
}

export async function refreshRostersHandler(runner: StepRunner, input: RefreshRostersInput, db: Db): Promise<RefreshRostersResult> {
  const deps = rosterDeps(db);
  const only = input.contextRefs?.length ? input.contextRefs : null;
  const list = await runner.run("list-contexts", () => listRosterTargets(db, { maxAgeHours: deps.maxAgeHours, only }));
  const skipped: ContextOutcome[] = list.skipped.map((s) => ({ contextRef: s.contextRef, outcome: "skipped", reason: s.reason }));

  if (input.fanOut === "events") {
    if (list.due.length)
      await runner.sendEvent(
        "fan-out",
        list.due.map((t) => ({
          name: EVENTS.rosterContext,
          data: { contextRef: t.contextRef, platformId: t.platformId, runId: input.runId, reason: "run", force: Boolean(only) } satisfies RosterContextData,
        })),
      );
    return { counts: { ...tally(skipped), queued: list.due.length }, outcomes: skipped, queued: list.due.length };
  }

  const outcomes: ContextOutcome[] = [];
  const queue = [...list.due];
  await Promise.all(
    Array.from({ length: Math.min(deps.tuning.parallelContexts, queue.length) }, async () => {
      for (let t = queue.shift(); t; t = queue.shift()) {
        const ref = t.contextRef;
        try {
          outcomes.push(await runner.run(`refresh:${ref}`, () => withRosterLock(ref, () => refreshContext(deps, ref, { force: Boolean(only) }))));
        } catch (error) {
          // One context's unexpected error (logged by refreshContext) is that context's failure, as
          // under Inngest where each context is its own run: it must not abandon the others, which
          // would go on unobserved after the run was marked failed.
          outcomes.push({ contextRef: ref, outcome: "failed", reason: "error", retried: 0, detail: describeError(error) });
        }
      }
    }),
  );
  const all = [...skipped, ...outcomes];
  const errors = outcomes.flatMap((o) => (o.outcome === "failed" && o.detail ? [o.detail] : []));
  const result: RefreshRostersResult = { counts: tally(all), outcomes: all, queued: 0 };
  if (errors.length) result.error = `${errors.length} course(s) could not be refreshed: ${[...new Set(errors)].join("; ")}`;
  return result;
}

/**
 * One context under Inngest: a unit of a refresh run, or (the debounced refresh after a teacher's
 * launch) a run of its own, whose id comes from the engine's run id (see startEngineRun).
 */
export async function refreshRosterContextHandler(
  runner: StepRunner,
  data: RosterContextData,
  db: Db,
  engineRunId: string,
): Promise<ContextOutcome & { runId: string }> {
  const runId =
    data.runId ??
    (await runner.run("start-run", () =>
      startEngineRun(db, { kind: "refresh-rosters", trigger: "debounce", engineRunId, contextRef: data.contextRef, unit: true }),
    ));
  const deps = rosterDeps(db);
  // A launch's refresh re-checks the age: a run may have refreshed the context meanwhile.
  const outcome = await runner.run("refresh", () => refreshContext(deps, data.contextRef, { force: data.force ?? false }));
  await runner.run("count", async () => {
    await unitDone(db, runId, data.contextRef, tally([outcome]));
    return null;
  });
  return { ...outcome, runId };
}

/** One context inline, as a run of its own (the debounced refresh after a teacher's launch). */
export async function refreshContextInline(contextRef: string, trigger: string, opts: { db?: Db; force?: boolean } = {}): Promise<{ run: RunSummary; context: ContextOutcome }> {
  const db = opts.db ?? (await getDb());
  const deps = rosterDeps(db);
  const runId = await startRun(db, "refresh-rosters", trigger, contextRef);
  try {
    const outcome = await withRosterLock(contextRef, () => refreshContext(deps, contextRef, { force: opts.force }));
    await addRunCounts(db, runId, tally([outcome]));
    const run = await finishRun(db, runId, outcome.outcome === "failed" ? "partial" : "completed");
    return { run, context: outcome };
  } catch (error) {
    await failRun(db, runId, error);
    throw error;
  }
}
