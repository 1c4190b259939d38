/**
 * "Graded work does not wait for the nightly run": recording a score schedules a push of its
 * context. Inline, a per-context timer (unref'd, so it never keeps a CLI alive) fires once within
 * PUSH_DELAY_MS and coalesces everything recorded meanwhile; with Inngest, an event that a debounced
 * function picks up.
 */
import { env } from "../env";
import { errorFields, log } from "../log";

export const PUSH_DELAY_MS = 15_000;

type Scheduler = (contextRef: string) => void;

const holder = globalThis as unknown as {
  __gradesyncPushTimers?: Map<string, NodeJS.Timeout>;
  __gradesyncPushScheduler?: Scheduler | null;
  __gradesyncPushDelayMs?: number;
};
const timers = (holder.__gradesyncPushTimers ??= new Map());

export function schedulePush(contextRef: string): void {
  const override = holder.__gradesyncPushScheduler;
  if (override !== undefined) {
    override?.(contextRef);
    return;
  }
  if (env().jobsMode === "inngest") {
    import("../inngest/client")
      .then((m) => m.sendContextChanged(contextRef))
      .catch((error) => log.warn("push.schedule_failed", { contextRef, ...errorFields(error) }));
    return;
  }
  if (timers.has(contextRef)) return;
  const timer = setTimeout(() => {
    timers.delete(contextRef);
    import("../jobs/push-context")
      .then((m) => m.pushContextInline(contextRef, "debounce"))
      .catch((error) => log.warn("push.debounced_failed", { contextRef, ...errorFields(error) }));
  }, holder.__gradesyncPushDelayMs ?? PUSH_DELAY_MS);
  timer.unref();
  timers.set(contextRef, timer);
}

/** Tests replace the scheduler (a spy, or `null` to drop every request); `undefined` restores it. */
export function setPushSchedulerForTests(scheduler: Scheduler | null | undefined): void {
  holder.__gradesyncPushScheduler = scheduler;
  if (scheduler !== undefined) {
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
  }
}

/** Tests shorten the inline debounce delay (undefined restores PUSH_DELAY_MS). */
export function setPushDelayForTests(ms: number | undefined): void {
  holder.__gradesyncPushDelayMs = ms;
}
