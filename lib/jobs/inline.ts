/**
 * The inline engine: jobs run in this process, their units awaited, so an inline run ends when its
 * work does. Its flow control mirrors Inngest's (see Flow): one run of a kind at a time per process
 * ("already running"), one unit per context at a time, units of a fan-out a few at a time; the
 * platform gate in the deps bounds requests per platform across every job.
 */
import { keyedLock } from "../keyed-lock";
import { sleep } from "../ltiaas/gate";
import type { JobDefinition, JobEvent, StepRunner, Trigger } from "./definition";
import type { JobDeps } from "./deps";
import { executeJob, jobGaveUp, unitsByRun } from "./execute";
import { fanOut } from "./fan-out";
import { expectUnits, runSummary, type RunSummary } from "./runs";
import { jobOfEvent } from "./table";

export type InlineRun = RunSummary & Record<string, unknown>;

export class AlreadyRunningError extends Error {
  constructor(readonly runId: string) {
    super(`already running (${runId})`);
    this.name = "AlreadyRunningError";
  }
}

const holder = globalThis as unknown as { __gradesyncRunning?: Map<string, Promise<string>> };
/** Runs of one-at-a-time kinds in this process, by kind: the promise of the run's id. */
const running: Map<string, Promise<string>> = (holder.__gradesyncRunning ??= new Map());

/** The inline engine's step runner: steps are plain calls, units run here, sleeps are timers. */
export function inlineStep(deps: JobDeps): StepRunner {
  return {
    run: (_id, fn) => fn(),
    async sendEvent(_id, events) {
      for (const [runId, contexts] of unitsByRun(events)) await expectUnits(deps.db, runId, contexts);
      await runUnits(events, deps);
    },
    sleep: (_id, ms) => sleep(ms),
  };
}

/**
 * A fan-out's units, a few of one platform at a time (platforms side by side, as in the gate); one
 * that fails gives up (recorded) and the others go on.
 */
async function runUnits(events: JobEvent[], deps: JobDeps): Promise<void> {
  const perPlatform = jobOfEvent(events[0]?.name)?.flow.inlineFanOut ?? 16;
  await fanOut(events, platformOf, perPlatform, async (e) => {
    const def = jobOfEvent(e.name);
    if (!def) throw new Error(`no job for event ${e.name}`);
    await runInline(def, e.data, { deps, trigger: "inngest" }).catch(() => undefined);
  });
}

const platformOf = (e: JobEvent) => {
  const id = (e.data as { platformId?: unknown } | undefined)?.platformId;
  return typeof id === "string" ? id : "";
};

/**
 * Runs a job here to its end and returns the run's summary (with the job's own extra fields). A
 * failure is recorded (a unit gives up, a run fails) and thrown to the caller.
 */
export async function runInline(def: JobDefinition, data: unknown, opts: { deps: JobDeps; trigger: Trigger }): Promise<InlineRun> {
  const exec = async () => {
    let runId: string | undefined;
    let started!: (id: string) => void;
    const startedId = new Promise<string>((resolve) => (started = resolve));
    const body = async () => {
      try {
        const { result } = await executeJob(def, data, {
          step: inlineStep(opts.deps),
          deps: opts.deps,
          trigger: opts.trigger,
          onRun: (id) => started((runId = id)),
        });
        return { ...(await runSummary(opts.deps.db, runId!)), ...def.summary?.(result) };
      } catch (error) {
        if (runId) await jobGaveUp(def, data, opts.deps, { runId, error });
        throw error;
      }
    };
    return { startedId, done: body() };
  };
  if (def.flow.concurrency === "one-at-a-time") return exclusive(def.kind, exec);
  if (def.flow.concurrency === "per-platform-and-context") {
    const contextRef = String((data as { contextRef?: unknown })?.contextRef ?? "");
    return lockFor(def)(contextRef, async () => (await exec()).done);
  }
  return (await exec()).done;
}

/** One unit per context at a time in this process (Inngest: a concurrency key per context, limit 1). */
const lockFor = (def: JobDefinition) => keyedLock(def.id);

/** Runs unless the same kind already runs in this process (then AlreadyRunningError, naming it). */
async function exclusive(kind: string, exec: () => Promise<{ startedId: Promise<string>; done: Promise<InlineRun> }>): Promise<InlineRun> {
  const current = running.get(kind);
  if (current) {
    // A run still starting has no id yet: wait for it, so the answer names a real run.
    const runId = await current.then(
      (id) => id,
      () => undefined,
    );
    if (runId !== undefined && running.get(kind) === current) throw new AlreadyRunningError(runId);
    return exclusive(kind, exec);
  }
  // Reserved synchronously so two callers in one tick cannot both start.
  let reserve!: (p: Promise<string>) => void;
  const slot = new Promise<string>((resolve, reject) => (reserve = (p) => p.then(resolve, reject)));
  running.set(kind, slot);
  try {
    const { startedId, done } = await exec();
    reserve(Promise.race([startedId, done.then(() => startedId)]));
    return await done;
  } catch (error) {
    reserve(Promise.reject(error));
    throw error;
  } finally {
    slot.catch(() => undefined);
    if (running.get(kind) === slot) running.delete(kind);
  }
}
