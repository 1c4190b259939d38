/**
 * What a job is: one definition holds its kind, its event, the zod schema of its payload, its flow
 * control and its handler. The table (table.ts) lists them; the inline runner, the Inngest functions,
 * the cron routes, the command line and /api/health are derived from that one list.
 *
 * A handler takes `{ payload, step, deps, runId }`. `step` is the engine: `step.run(id, fn)` is a
 * step (memoised and retried by Inngest, simply called inline), `step.sendEvent` fans work out to
 * units, `step.sleep` waits. The same handler serves both engines.
 */
import { z } from "zod";
import type { JobDeps } from "./deps";

export interface JobEvent {
  name: string;
  data: { contextRef: string; platformId: string; runId: string | null } & Record<string, unknown>;
  id?: string;
}

export interface StepRunner {
  run<T>(id: string, fn: () => Promise<T>): Promise<T>;
  /** Hands units to the engine; the run settles when the last of them is done. */
  sendEvent(id: string, events: JobEvent[]): Promise<void>;
  sleep(id: string, ms: number): Promise<void>;
}

/** Who started a run (sync_runs.trigger). */
export type Trigger = "cron" | "cli" | "manual" | "debounce" | "inngest" | (string & {});

export interface JobContext<P> {
  payload: P;
  step: StepRunner;
  deps: JobDeps;
  /** The sync_runs row this work counts towards. */
  runId: string;
}

/**
 * Flow control, read by both engines: Inngest's own configuration, and the inline runner's
 * equivalent (one run of a kind at a time per process; one unit per context at a time; units of a
 * fan-out run a few at a time; the platform gate bounds requests per platform either way).
 */
export interface Flow {
  retries: number;
  /**
   * "one-at-a-time": one run of this kind at once (Inngest concurrency 1; inline, a second start
   * answers "already running"). "per-platform-and-context": a unit — Inngest's concurrency key per
   * platform (PLATFORM_CONCURRENCY, shared by every job that talks to a platform) and one per
   * context; inline, one unit per context at a time.
   */
  concurrency: "one-at-a-time" | "per-platform-and-context" | "none";
  /** Inngest cron schedule (Vercel's Hobby plan allows daily crons only: finer ones live here). */
  cron?: () => string;
  /** Units of one fan-out run at once inline, per platform (platforms side by side, as in the gate). */
  inlineFanOut?: number;
  /**
   * A debounced variant ("soon"): a burst of requests becomes one run within a short while. Inngest:
   * a function of its own on `event` with this debounce; inline: a timer per context.
   */
  soon?: { id: string; event: string; period: `${number}s`; timeout: `${number}${"s" | "m"}`; inlineDelayMs: number };
}

/** What the command line hands a job: `--context` resolved, `--file` read, the flags. */
export interface CliInput {
  context?: { contextRef: string; resourceLinkRef: string; platformId: string; contextId: string; resourceLinkId: string };
  since?: string;
  scores?: unknown[];
  dryRun: boolean;
  overwrite: boolean;
}

/** Where a job shows besides the engines. */
export interface Shows {
  /** /api/health's lastRuns keeps exactly the kinds the README names. */
  health?: boolean;
  /** GET or POST /api/cron/<path>. */
  cron?: { path: string; method: "GET" | "POST" };
  /** `npm run job -- <kind>`. */
  cli?: boolean;
}

export interface JobDefinition<S extends z.ZodType = z.ZodType, R extends object = object> {
  /** Event and function name stem, and the CLI's command for a run. */
  kind: string;
  /** Inngest function id (kept stable: renaming one orphans its runs in Inngest). */
  id: string;
  event: string;
  payload: S;
  /**
   * A unit is one context's part of a run of `unitOf` (its payload names the context, the platform
   * and the run); sent without a run id (Sync now, a debounced push) it is a run of that kind of its
   * own. A job without `unitOf` is a run of kind `kind`.
   */
  unitOf?: string;
  flow: Flow;
  shows: Shows;
  handler(ctx: JobContext<z.output<S>>): Promise<R>;
  /**
   * Runs in the job's last step, before its unit is marked done: what the run adds to its counts
   * (and any bookkeeping of its own). Repeated if that step is retried: keep it idempotent.
   */
  finish?(ctx: JobContext<z.output<S>>, result: R): Promise<Record<string, number>>;
  /** A unit that gave up (its retries ran out, or inline, it threw): what it adds to its run's counts. */
  gaveUpCounts?(ctx: Omit<JobContext<z.output<S>>, "step">): Promise<Record<string, number>>;
  /**
   * Checks a request before it is queued for another process (a domain error thrown here answers the
   * caller at once, e.g. corrections naming a triple never launched); inline, the handler checks.
   */
  precheck?(payload: z.output<S>, deps: JobDeps): Promise<void>;
  /** Requests answered in the caller's process whatever the engine (a dry run only reads). */
  runsHere?(payload: z.output<S>): boolean;
  /** The payload of `npm run job -- <kind>`, from the command line's arguments. */
  cliPayload?(args: CliInput): z.input<S>;
  /** Extra fields of the inline run's summary (the cron route's and the CLI's answer). */
  summary?(result: R): Record<string, unknown>;
  /** The context a run of this kind covers alone, if any (the teacher's page lists such runs). */
  contextOf?(payload: z.output<S>): string | null;
}

export function defineJob<S extends z.ZodType, R extends object>(def: JobDefinition<S, R>): JobDefinition<S, R> {
  return def;
}

/** The kind of the sync_runs row a job's work counts towards. */
export const runKindOf = (def: JobDefinition) => def.unitOf ?? def.kind;

/** Every unit's payload names its context, its platform (Inngest's concurrency key) and its run. */
export const unitPayload = z.object({
  contextRef: z.uuid(),
  platformId: z.string().min(1).max(1024),
  /** Absent or null: a run of its own (Sync now, a debounced push). */
  runId: z.uuid().nullish().transform((v) => v ?? null),
});
export type UnitPayload = z.output<typeof unitPayload>;

/** The events that hand each target to a unit job, as part of run `runId`. */
export function unitEvents(unit: JobDefinition, targets: { contextRef: string; platformId: string }[], runId: string, extra: Record<string, unknown> = {}): JobEvent[] {
  return targets.map((t) => ({ name: unit.event, data: { contextRef: t.contextRef, platformId: t.platformId, runId, ...extra } }));
}
