/**
 * The dispatcher: the only code that knows whether jobs run inline or in Inngest. Routes, pages'
 * actions and the command line ask it to run a job (`enqueue`), to run one here whatever the engine
 * (`runHere`: the command line, dry runs), or to run a unit "soon" (debounced: a burst of recorded
 * scores becomes one push, a teacher's launches one roster refresh).
 */
import { env } from "../env";
import { errorFields, log } from "../log";
import { inngest } from "../inngest/client";
import type { JobDefinition, Trigger, UnitPayload } from "./definition";
import { jobDeps, type DepsOverrides, type Engine } from "./deps";
import { runInline, type InlineRun } from "./inline";
import { jobOfKind } from "./table";

export type Dispatched = { mode: "inngest"; eventId: string | null } | { mode: "inline"; run: InlineRun; joined: boolean };

export type SoonAnswer = "scheduled" | "already_scheduled" | "sent";

export type Sender = (event: { name: string; data: Record<string, unknown>; id?: string }) => Promise<void>;

export interface Dispatcher {
  readonly mode: Engine;
  /**
   * Runs a job: inline, to its end; under Inngest, sends its event (`id` dedupes: Inngest drops a
   * second event with it for 24 h). With `join`, inline, a request with the same `id` still running
   * here is joined instead of started again (as Inngest would drop it).
   */
  enqueue(kind: string, payload: object, opts: { trigger: Trigger; id?: string; join?: boolean }): Promise<Dispatched>;
  /** Whether a request with this `id` is running here and a joining `enqueue` would join it (inline). */
  joinable(kind: string, id: string): boolean;
  /** Runs a job in this process to its end, whatever the engine. */
  runHere(kind: string, payload: object, trigger: Trigger): Promise<InlineRun>;
  /** Runs a unit soon, debounced per context. Never throws: failures are logged. */
  soon(kind: string, payload: Omit<UnitPayload, "runId">): Promise<SoonAnswer | "failed">;
  /** Contexts with an inline "soon" waiting. */
  waiting(kind: string): string[];
  /** Drops every inline "soon" still waiting (tests that must not leave timers behind). */
  cancelWaiting(): void;
}

export interface DispatcherOptions {
  mode?: Engine;
  /** Dependencies of jobs run here (tests: a client that counts, quick retries, a fresh gate). */
  deps?: DepsOverrides;
  send?: Sender;
  /** Inline debounce per kind (default: the job's flow.soon.inlineDelayMs). */
  soonDelayMs?: Partial<Record<string, number>>;
}

export function createDispatcher(opts: DispatcherOptions = {}): Dispatcher {
  const mode = opts.mode ?? env().jobsMode;
  const send: Sender = opts.send ?? (async (event) => void (await inngest.send(event)));
  const inflight = new Map<string, Promise<InlineRun>>();
  const timers = new Map<string, NodeJS.Timeout>();

  const here = async (def: JobDefinition, payload: object, trigger: Trigger) =>
    runInline(def, payload, { deps: await jobDeps("inline", opts.deps), trigger });

  const d: Dispatcher = {
    mode,
    async enqueue(kind, payload, { trigger, id, join }) {
      const def = jobOfKind(kind);
      if (def.runsHere?.(def.payload.parse(payload))) return { mode: "inline", run: await here(def, payload, trigger), joined: false };
      if (mode === "inngest") {
        await def.precheck?.(def.payload.parse(payload), await jobDeps("inngest", opts.deps));
        await send({ name: def.event, data: payload as Record<string, unknown>, ...(id ? { id } : {}) });
        return { mode: "inngest", eventId: id ?? null };
      }
      const key = join && id ? `${kind}:${id}` : undefined;
      const joined = key ? inflight.get(key) : undefined;
      if (joined) return { mode: "inline", run: await joined, joined: true };
      const run = here(def, payload, trigger);
      if (key) {
        // Registered before the first await, so two requests in one tick cannot both start.
        inflight.set(key, run);
        void run.catch(() => undefined).finally(() => inflight.get(key) === run && inflight.delete(key));
      }
      return { mode: "inline", run: await run, joined: false };
    },

    joinable: (kind, id) => inflight.has(`${kind}:${id}`),

    runHere: (kind, payload, trigger) => here(jobOfKind(kind), payload, trigger),

    async soon(kind, payload) {
      const def = jobOfKind(kind);
      const soon = def.flow.soon;
      if (!soon) throw new Error(`${kind} has no "soon" variant`);
      try {
        if (mode === "inngest") {
          await send({ name: soon.event, data: { ...payload, runId: null } });
          return "sent";
        }
        const key = `${kind}:${payload.contextRef}`;
        if (timers.has(key)) return "already_scheduled";
        const timer = setTimeout(() => {
          timers.delete(key);
          here(def, { ...payload, runId: null }, "debounce").catch((error) =>
            log.warn("jobs.soon_failed", { kind, contextRef: payload.contextRef, ...errorFields(error) }),
          );
        }, opts.soonDelayMs?.[kind] ?? soon.inlineDelayMs);
        // Never keeps a command-line process alive.
        timer.unref();
        timers.set(key, timer);
        return "scheduled";
      } catch (error) {
        log.warn("jobs.soon_failed", { kind, contextRef: payload.contextRef, ...errorFields(error) });
        return "failed";
      }
    },

    waiting: (kind) => [...timers.keys()].filter((k) => k.startsWith(`${kind}:`)).map((k) => k.slice(kind.length + 1)),
    cancelWaiting() {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
  return d;
}

const holder = globalThis as unknown as { __gradesyncDispatcher?: { env: object; dispatcher: Dispatcher } };

/** The process's dispatcher, built from its configuration (kept across Next's dev reloads). */
export function dispatcher(): Dispatcher {
  const e = env();
  if (holder.__gradesyncDispatcher?.env !== e) holder.__gradesyncDispatcher = { env: e, dispatcher: createDispatcher() };
  return holder.__gradesyncDispatcher.dispatcher;
}
