/**
 * The Inngest functions, derived from the job table: one function per job (and one more for a job's
 * debounced "soon" variant), each a thin wrapper that runs the job through lib/jobs/execute with a
 * step runner made of Inngest's `step`. Flow control comes from the job's definition: a concurrency
 * key per platform (shared by every function that talks to one, scope env) limited to one step, which
 * sends at most the platform's pacing window in parallel — so that bounds requests in flight — and
 * one per context limited to 1; one run at a time for the fan-out jobs. A rate limit becomes
 * RetryAfterError, a permanent failure NonRetriableError. What Inngest enforces (keys, retries,
 * dedupe, debounce, onFailure) needs its server; tests assert this configuration.
 */
import { NonRetriableError, RetryAfterError } from "inngest";
import { ZodError } from "zod";
import { SealError } from "../crypto/seal";
import type { Flow, JobDefinition, JobEvent, StepRunner, Trigger } from "../jobs/definition";
import { jobDeps, type DepsOverrides } from "../jobs/deps";
import { executeJob, InvalidPayload, jobGaveUp, unitsByRun } from "../jobs/execute";
import { expectUnits, ownRunId, runEnded, runFailed } from "../jobs/runs";
import { JOBS, jobOfEvent } from "../jobs/table";
import { inngest } from "./client";

export const EVENTS_PER_SEND = 500;

/**
 * Concurrency shared by every function that talks to a platform — one step at a time per platform,
 * which sends as many requests in parallel as the platform's pacing window (kept in the database)
 * allows, so no step ever has more in flight than the window — plus one run per context.
 */
export const platformAndContextConcurrency = () =>
  [
    { scope: "env" as const, key: `"gradesync-platform-" + event.data.platformId`, limit: 1 },
    { key: "event.data.contextRef", limit: 1 },
  ] as [{ scope: "env"; key: string; limit: number }, { key: string; limit: number }];

interface InngestStep {
  run: (id: string, fn: () => Promise<unknown>) => Promise<unknown>;
  sendEvent: (id: string, payload: unknown) => Promise<unknown>;
  sleep: (id: string, ms: number) => Promise<unknown>;
}

function permanent(error: unknown): boolean {
  return error instanceof SealError || error instanceof ZodError || error instanceof InvalidPayload;
}

/** A step runner over Inngest's `step`. */
export function stepRunner(step: InngestStep, overrides: DepsOverrides = {}): StepRunner {
  return {
    run: async <T>(id: string, fn: () => Promise<T>) =>
      (await step.run(id, async () => {
        let out: T;
        try {
          out = await fn();
        } catch (error) {
          if (permanent(error)) throw new NonRetriableError(error instanceof Error ? error.name : "permanent failure");
          throw error;
        }
        const retryAfterMs = (out as { retryAfterMs?: number } | null)?.retryAfterMs;
        // The rows are recorded; the step runs again after the platform's Retry-After and sends what is due.
        if (retryAfterMs && retryAfterMs > 0) throw new RetryAfterError("platform rate limited", Math.ceil(retryAfterMs));
        return out;
      })) as T,
    async sendEvent(id: string, events: JobEvent[]) {
      // The units run on their own from here: registered first, so the last one settles the run.
      const byRun = unitsByRun(events);
      if (byRun.size)
        await step.run(`${id}-units`, async () => {
          const { db } = await jobDeps("inngest", overrides);
          for (const [runId, contexts] of byRun) await expectUnits(db, runId, contexts);
          return null;
        });
      for (let i = 0; i * EVENTS_PER_SEND < events.length; i++)
        await step.sendEvent(`${id}-${i}`, events.slice(i * EVENTS_PER_SEND, (i + 1) * EVENTS_PER_SEND));
    },
    sleep: async (id, ms) => {
      await step.sleep(id, ms);
    },
  };
}

interface FailureArgs {
  event: { data?: { run_id?: string; event?: { name?: string; data?: unknown } } };
  error?: { name?: string };
}

/**
 * Inngest's onFailure, for every function: the failure event wraps the original one, so the job is
 * found by its event's name. A unit gives up (its run settles, partial); a fan-out run fails.
 */
async function gaveUp({ event, error }: FailureArgs, overrides: DepsOverrides = {}) {
  const def = jobOfEvent(event.data?.event?.name);
  if (!def) return { settled: false };
  const settled = await jobGaveUp(def, event.data?.event?.data, await jobDeps("inngest", overrides), {
    engineRunId: event.data?.run_id,
    error: error ?? new Error(),
  });
  return { settled };
}

/** onFailure of the unit functions (a context's push or roster refresh). */
export const unitGaveUp = (args: FailureArgs) => gaveUp(args);

/** onFailure of the fan-out functions: their own body failed for good, so their run failed. */
export async function runGaveUp({ event, error }: { event: { data?: { run_id?: string } }; error?: { name?: string } }) {
  if (!event.data?.run_id) return { settled: false };
  const deps = await jobDeps("inngest");
  if (await runFailed(deps.db, ownRunId(event.data.run_id), error?.name || "Error")) await runEnded(deps);
  return { settled: true };
}

function functionFor(
  def: JobDefinition,
  variant: { id: string; event: string; trigger: Trigger; cron?: string; debounce?: Pick<NonNullable<Flow["soon"]>, "period" | "timeout"> },
  overrides: DepsOverrides,
) {
  return inngest.createFunction(
    {
      id: variant.id,
      retries: def.flow.retries as 4,
      ...(def.flow.concurrency === "one-at-a-time" ? { concurrency: { limit: 1 } } : {}),
      ...(def.flow.concurrency === "per-platform-and-context" ? { concurrency: platformAndContextConcurrency() } : {}),
      ...(variant.debounce ? { debounce: { key: "event.data.contextRef", ...variant.debounce } } : {}),
      onFailure: def.unitOf ? unitGaveUp : runGaveUp,
      triggers: variant.cron ? [{ event: variant.event }, { cron: variant.cron }] : [{ event: variant.event }],
    },
    async ({ event, step, runId }) => {
      const deps = await jobDeps("inngest", overrides);
      try {
        const { runId: ours, result } = await executeJob(def, event?.data ?? {}, {
          step: stepRunner(step as unknown as InngestStep, overrides),
          deps,
          trigger: variant.trigger,
          engineRunId: runId,
        });
        return { runId: ours, ...result };
      } catch (error) {
        if (error instanceof InvalidPayload) throw new NonRetriableError(error.message);
        throw error;
      }
    },
  );
}

/** Every job's functions, with these dependencies (tests: quick retries; the app: the process's). */
export function createFunctions(overrides: DepsOverrides = {}) {
  return JOBS.flatMap((def) => {
    // A unit sent without a run (Sync now) is a run of its own, started by a person.
    const main = functionFor(def, { id: def.id, event: def.event, trigger: def.unitOf ? "manual" : "inngest", cron: def.flow.cron?.() }, overrides);
    const soon = def.flow.soon;
    if (!soon) return [main];
    return [main, functionFor(def, { id: soon.id, event: soon.event, trigger: "debounce", debounce: { period: soon.period, timeout: soon.timeout } }, overrides)];
  });
}

export const functions = createFunctions();

/** A function by its id (tests, and anyone wiring one function alone). */
export function inngestFunction(id: string, fns: ReturnType<typeof createFunctions> = functions) {
  const fn = fns.find((f) => f.opts.id === id);
  if (!fn) throw new Error(`no Inngest function ${id}`);
  return fn;
}
