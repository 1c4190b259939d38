/**
 * Requests in flight per platform, shared by every job in this process: a semaphore of
 * PLATFORM_CONCURRENCY slots per platform, and a hold that stops the whole platform until a
 * `Retry-After` has passed. Platforms do not wait on each other.
 */
import { env } from "../env";
import type { LtiaasError } from "./errors";

interface Lane {
  active: number;
  waiters: (() => void)[];
  holdUntil: number;
  /** The hold is this process's own finding (LTIAAS unreachable), not something the platform asked. */
  holdLocal: boolean;
}

export class PlatformGate {
  private lanes = new Map<string, Lane>();
  private inFlightMax = new Map<string, number>();

  constructor(readonly limit: number) {}

  private lane(platformId: string): Lane {
    let lane = this.lanes.get(platformId);
    if (!lane) this.lanes.set(platformId, (lane = { active: 0, waiters: [], holdUntil: 0, holdLocal: false }));
    return lane;
  }

  /** Waits for a slot (and for any hold to pass); returns the release function. */
  async acquire(platformId: string): Promise<() => void> {
    return (await this.tryAcquire(platformId, Infinity))!;
  }

  /**
   * Like acquire, but gives up (undefined) as soon as the platform is held for longer than
   * `maxHoldWaitMs` — also when the hold is set while this caller is already queued for a slot, so
   * a long Retry-After never stalls the callers behind it.
   */
  async tryAcquire(platformId: string, maxHoldWaitMs: number): Promise<(() => void) | undefined> {
    const lane = this.lane(platformId);
    for (let queued = false; ; ) {
      const wait = lane.holdUntil - Date.now();
      if (wait > maxHoldWaitMs) {
        // Woken by a release we will not use: pass it on, or the next caller in line waits for a
        // release that may never come.
        if (queued && lane.active < this.limit) lane.waiters.shift()?.();
        return undefined;
      }
      if (lane.active < this.limit) {
        if (wait <= 0) break;
        await sleep(wait);
        continue;
      }
      await new Promise<void>((resolve) => lane.waiters.push(resolve));
      queued = true;
    }
    lane.active++;
    this.inFlightMax.set(platformId, Math.max(this.inFlightMax.get(platformId) ?? 0, lane.active));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      lane.active--;
      lane.waiters.shift()?.();
    };
  }

  /**
   * Nobody sends to this platform before `until` (ms since epoch). `local`: the hold is only this
   * process's finding (LTIAAS unreachable) — work handed back for it need not wait for its end.
   */
  hold(platformId: string, until: number, opts: { local?: boolean } = {}): void {
    const lane = this.lane(platformId);
    if (until <= lane.holdUntil) return;
    lane.holdUntil = until;
    lane.holdLocal = opts.local ?? false;
  }

  /** Whether the hold in force is only this process's finding (see hold). */
  holdIsLocal(platformId: string): boolean {
    const lane = this.lanes.get(platformId);
    return lane !== undefined && lane.holdUntil > Date.now() && lane.holdLocal;
  }

  heldUntil(platformId: string): number {
    return this.lanes.get(platformId)?.holdUntil ?? 0;
  }

  maxInFlight(platformId: string): number {
    return this.inFlightMax.get(platformId) ?? 0;
  }
}

/**
 * The answer asks the whole platform to slow down, not just this request: a 429, a throttling 403
 * (the client classifies any other 403 as refused), or a Retry-After on a retryable answer.
 */
export function throttlesPlatform(error: LtiaasError): boolean {
  return error.kind === "retry_later" && (error.status === 429 || error.status === 403 || error.retryAfterSeconds !== undefined);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

const holder = globalThis as unknown as { __gradesyncGate?: PlatformGate };

/** The process's gate (created with the configured limit on first use). */
export function platformGate(): PlatformGate {
  if (!holder.__gradesyncGate || holder.__gradesyncGate.limit !== env().platformConcurrency)
    holder.__gradesyncGate = new PlatformGate(env().platformConcurrency);
  return holder.__gradesyncGate;
}
