/**
 * The Inngest functions: thin wrappers that give the job handlers of lib/jobs a step runner made
 * of Inngest's `step`. Flow control lives here: one concurrency key per platform (shared by every
 * function that sends, scope env) limited to PLATFORM_CONCURRENCY — each step sends one request at
 * a time, so that bounds requests in flight — and one per context limited to 1. Step ids are stable
 * (`start-run` for a push of its own, `prepare`, `send:<link>:<n>`, `finish`), a step sends at most
 * 100 scores, a rate limit becomes RetryAfterError, a permanent failure NonRetriableError. A fan-out
 * registers its units first; the last unit to finish (or give up, through onFailure) settles the run.
 * What Inngest enforces (keys, retries, dedupe) needs its server; tests assert this configuration.
 */
import { NonRetriableError, RetryAfterError } from "inngest";
import { z, ZodError } from "zod";
import { getDb, type Db } from "../db/client";
import { SealError } from "../crypto/seal";
import { backfillHandler, backfillRequestSchema } from "../jobs/backfill";
import { pushDeps } from "../jobs/deps";
import { EVENTS, pushContextData, rosterContextData, type JobEvent } from "../jobs/events";
import { pushContextHandler } from "../jobs/push-context";
import { pushGradesHandler } from "../jobs/push-grades";
import { refreshRostersHandler } from "../jobs/refresh-rosters";
import { retryFailedHandler } from "../jobs/retry-failed";
import type { StepRunner } from "../jobs/runner";
import { addRunCounts, engineRunFailed, expectUnits, ownRunId, settleIfDone, startEngineRun, unitAttemptCounts, unitDone } from "../jobs/runs";
import { refreshRosterContextHandler } from "../roster/job";
import { inngest } from "./client";

/** Read without env(): importing this module (next build) must not need the full configuration. */
export function platformConcurrency(source: Record<string, string | undefined> = process.env): number {
  const n = Number(source.PLATFORM_CONCURRENCY);
  return Number.isInteger(n) && n > 0 ? n : 2;
}

export const EVENTS_PER_SEND = 500;
export const RETRIES = 4;

/** Concurrency shared by every function that talks to a platform, plus one run per context. */
export const platformAndContextConcurrency = () =>
  [
    { scope: "env" as const, key: `"gradesync-platform-" + event.data.platformId`, limit: platformConcurrency() },
    { key: "event.data.contextRef", limit: 1 },
  ] as [{ scope: "env"; key: string; limit: number }, { key: string; limit: number }];

interface InngestStep {
  run: (id: string, fn: () => Promise<unknown>) => Promise<unknown>;
  sendEvent: (id: string, payload: unknown) => Promise<unknown>;
  sleep: (id: string, ms: number) => Promise<unknown>;
}

function permanent(error: unknown): boolean {
  return error instanceof SealError || error instanceof ZodError;
}

/** A step runner over Inngest's `step`. */
export function stepRunner(step: InngestStep): StepRunner {
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
      const runId = events.find((e) => e.data.runId)?.data.runId;
      if (runId)
        await step.run(`${id}-units`, async () => {
          await expectUnits(await getDb(), runId, events.filter((e) => e.data.runId === runId).map((e) => e.data.contextRef));
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

/** A fan-out run's row, its id derived from Inngest's run id (so runGaveUp can find it). */
async function startParentRun(step: unknown, db: Db, kind: string, engineRunId: string, contextRef: string | null = null): Promise<string> {
  return (await (step as InngestStep).run("start-run", () => startEngineRun(db, { kind, trigger: "inngest", engineRunId, contextRef }))) as string;
}

/**
 * The parent's own counts (its own step: a retry of the settle must not add them twice), then the
 * settle — which waits for the last unit when some are still running.
 */
async function finishParentRun(step: unknown, db: Db, runId: string, counts: Record<string, number>) {
  const s = step as InngestStep;
  if (Object.values(counts).some(Boolean))
    await s.run("count-run", async () => {
      await addRunCounts(db, runId, counts);
      return null;
    });
  await s.run("finish-run", async () => {
    await settleIfDone(db, runId);
    return null;
  });
}

/** A fan-out function whose retries ran out before it settled its run: the run failed, saying so. */
export async function runGaveUp({ event, error }: { event: { data?: { run_id?: string } }; error?: { name?: string } }) {
  if (!event.data?.run_id) return { settled: false };
  await engineRunFailed(await getDb(), ownRunId(event.data.run_id), error?.name || "Error");
  return { settled: true };
}

export const pushGradesFn = inngest.createFunction(
  {
    id: "push-grades",
    retries: RETRIES,
    concurrency: { limit: 1 },
    onFailure: runGaveUp,
    // Vercel's Hobby plan allows daily crons only: finer schedules are Inngest cron triggers.
    triggers: [{ event: EVENTS.pushGrades }, { cron: "TZ=UTC 0 */6 * * *" }],
  },
  async ({ step, runId: engineRunId }) => {
    const db = await getDb();
    const runId = await startParentRun(step, db, "push-grades", engineRunId);
    const r = await pushGradesHandler(stepRunner(step as unknown as InngestStep), { runId }, db);
    await finishParentRun(step, db, runId, {});
    return { runId, ...r };
  },
);

const unitOfRun = z.object({ contextRef: z.uuid(), runId: z.uuid().nullish() }).loose();

/**
 * A unit whose retries ran out (Inngest's onFailure): it still counts as done, given up, so its run
 * settles as partial instead of reading `running` for ever. A unit that was a run of its own finds
 * it through Inngest's run id. Only the error's name is kept.
 */
export async function unitGaveUp({ event, error }: { event: { data?: { run_id?: string; event?: { data?: unknown } } }; error?: { name?: string } }) {
  const unit = unitOfRun.safeParse(event.data?.event?.data);
  const runId = unit.success ? (unit.data.runId ?? (event.data?.run_id ? ownRunId(event.data.run_id) : null)) : null;
  if (!unit.success || !runId) return { settled: false };
  const db = await getDb();
  // Its finish step never ran: what it sent before giving up is read from its attempts.
  await unitDone(db, runId, unit.data.contextRef, await unitAttemptCounts(db, runId, unit.data.contextRef), error?.name || "Error");
  return { settled: true };
}

/** One context's push: a unit of a run, or (Sync now, the debounced push) a run of its own. */
async function pushOneContext(step: unknown, data: unknown, engineRunId: string, trigger: "manual" | "debounce") {
  const parsed = pushContextData.safeParse(data);
  if (!parsed.success) throw new NonRetriableError("invalid push-context event");
  const { contextRef } = parsed.data;
  const runner = stepRunner(step as InngestStep);
  const runId =
    parsed.data.runId ??
    (await runner.run("start-run", async () => startEngineRun(await getDb(), { kind: "push-grades", trigger, engineRunId, contextRef, unit: true })));
  const deps = await pushDeps(runId, "inngest");
  return pushContextHandler(runner, { contextRef, runId }, deps);
}

export const pushContextFn = inngest.createFunction(
  {
    id: "push-context",
    retries: RETRIES,
    concurrency: platformAndContextConcurrency(),
    triggers: [{ event: EVENTS.pushContext }],
    onFailure: unitGaveUp,
  },
  async ({ event, step, runId }) => pushOneContext(step, event.data, runId, "manual"),
);

/** Recording scores sends context.changed; a burst becomes one push within a minute. */
export const pushContextSoonFn = inngest.createFunction(
  {
    id: "push-context-soon",
    retries: RETRIES,
    debounce: { key: "event.data.contextRef", period: "20s", timeout: "1m" },
    concurrency: platformAndContextConcurrency(),
    triggers: [{ event: EVENTS.contextChanged }],
    onFailure: unitGaveUp,
  },
  async ({ event, step, runId }) => pushOneContext(step, event.data, runId, "debounce"),
);

export const backfillFn = inngest.createFunction(
  { id: "backfill", retries: 2, onFailure: runGaveUp, triggers: [{ event: EVENTS.backfill }] },
  async ({ event, step, runId: engineRunId }) => {
    const request = backfillRequestSchema.safeParse((event.data as { request?: unknown }).request);
    if (!request.success) throw new NonRetriableError("invalid backfill request");
    const db = await getDb();
    const runId = await startParentRun(step, db, "backfill", engineRunId);
    const r = await backfillHandler(stepRunner(step as unknown as InngestStep), { runId, request: request.data }, db);
    await finishParentRun(step, db, runId, { revised: r.revised });
    return { runId, ...r };
  },
);

export const retryFailedFn = inngest.createFunction(
  { id: "retry-failed", retries: RETRIES, concurrency: { limit: 1 }, onFailure: runGaveUp, triggers: [{ event: EVENTS.retryFailed }] },
  async ({ step, runId: engineRunId }) => {
    const db = await getDb();
    const runId = await startParentRun(step, db, "retry-failed", engineRunId);
    const r = await retryFailedHandler(stepRunner(step as unknown as InngestStep), { runId }, db);
    await finishParentRun(step, db, runId, { reset: r.reset });
    return { runId, ...r };
  },
);

/** Every ROSTER_MAX_AGE_HOURS (read without env(), like platformConcurrency); daily or every N days past 23 h. */
export function rosterCron(source: Record<string, string | undefined> = process.env): string {
  const n = Number(source.ROSTER_MAX_AGE_HOURS);
  const hours = Number.isInteger(n) && n > 0 ? n : 12;
  if (hours < 24) return `TZ=UTC 45 */${hours} * * *`;
  const days = Math.floor(hours / 24);
  return days === 1 ? "TZ=UTC 45 3 * * *" : `TZ=UTC 45 3 */${days} * *`;
}

const rosterRunData = z.object({ contextRefs: z.array(z.string().min(1)).max(1_000).nullish() }).loose();

/** Lists stale rosters and fans each context out to refresh-roster-context (flow control per platform). */
export const refreshRostersFn = inngest.createFunction(
  {
    id: "refresh-rosters",
    retries: RETRIES,
    concurrency: { limit: 1 },
    onFailure: runGaveUp,
    triggers: [{ event: EVENTS.refreshRosters }, { cron: rosterCron() }],
  },
  async ({ event, step, runId: engineRunId }) => {
    const parsed = rosterRunData.safeParse(event?.data ?? {});
    const contextRefs = parsed.success ? (parsed.data.contextRefs ?? null) : null;
    const db = await getDb();
    const runId = await startParentRun(step, db, "refresh-rosters", engineRunId, contextRefs?.length === 1 ? contextRefs[0] : null);
    const r = await refreshRostersHandler(stepRunner(step as unknown as InngestStep), { runId, contextRefs, fanOut: "events" }, db);
    await finishParentRun(step, db, runId, r.counts);
    return { runId, ...r };
  },
);

async function refreshOneRoster(step: unknown, data: unknown, engineRunId: string) {
  const parsed = rosterContextData.safeParse(data);
  if (!parsed.success) throw new NonRetriableError("invalid roster-context event");
  return refreshRosterContextHandler(stepRunner(step as InngestStep), parsed.data, await getDb(), engineRunId);
}

/** One context's roster, a unit of a refresh run: the same concurrency keys as pushes. */
export const refreshRosterContextFn = inngest.createFunction(
  {
    id: "refresh-roster-context",
    retries: RETRIES,
    concurrency: platformAndContextConcurrency(),
    onFailure: unitGaveUp,
    triggers: [{ event: EVENTS.rosterContext, if: "event.data.reason != 'launch'" }],
  },
  async ({ event, step, runId }) => refreshOneRoster(step, event.data, runId),
);

/** After a teacher's launch on a stale roster: launches within a minute become one refresh. */
export const refreshRosterSoonFn = inngest.createFunction(
  {
    id: "refresh-roster-soon",
    retries: RETRIES,
    debounce: { key: "event.data.contextRef", period: "30s", timeout: "2m" },
    concurrency: platformAndContextConcurrency(),
    onFailure: unitGaveUp,
    triggers: [{ event: EVENTS.rosterContext, if: "event.data.reason == 'launch'" }],
  },
  async ({ event, step, runId }) => refreshOneRoster(step, event.data, runId),
);

export const functions = [pushGradesFn, pushContextFn, pushContextSoonFn, backfillFn, retryFailedFn, refreshRostersFn, refreshRosterContextFn, refreshRosterSoonFn];
