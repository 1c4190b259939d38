/**
 * A job handler's view of its engine: `run(id, fn)` is a step (memoised and retried by Inngest,
 * simply called inline), `sendEvent` fans work out, `sleep` waits between retries. The inline runner
 * runs fanned-out units in this process, all awaited, so an inline run ends when its work does.
 */
import type { JobEvent } from "./events";

export interface StepRunner {
  run<T>(id: string, fn: () => Promise<T>): Promise<T>;
  sendEvent(id: string, events: JobEvent[]): Promise<void>;
  sleep(id: string, ms: number): Promise<void>;
}

export type EventDispatcher = (event: JobEvent) => Promise<unknown>;

/** Units of one fan-out running at once inline (the per-platform gate bounds requests anyway). */
const FAN_OUT = 64;

export function inlineRunner(dispatch: EventDispatcher): StepRunner {
  return {
    run: (_id, fn) => fn(),
    async sendEvent(_id, events) {
      const queue = [...events];
      const failures: unknown[] = [];
      await Promise.all(
        Array.from({ length: Math.min(FAN_OUT, queue.length) }, async () => {
          for (let e = queue.shift(); e; e = queue.shift()) {
            try {
              await dispatch(e);
            } catch (error) {
              failures.push(error);
            }
          }
        }),
      );
      if (failures.length) throw failures[0];
    },
    sleep: (_id, ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}
