/**
 * Requests in flight per platform, shared by every job in this process: a semaphore per platform
 * whose size is the platform's pacing window (pacing.ts: it starts at the platform's ceiling —
 * PLATFORM_CONCURRENCY unless an operator set another — and follows what the platform answers), and
 * a hold that stops the whole platform until a `Retry-After` has passed. Platforms do not wait on
 * each other.
 */
import { env } from "../env";
import type { LtiaasError } from "./errors";
import type { AnswerMeta, CallOptions } from "./types";
import { newPace, paceAnswer, setCeiling, type Pace, type PaceAnswer } from "./pacing";

interface Lane {
  active: number;
  waiters: (() => void)[];
  holdUntil: number;
  /** The hold is this process's own finding (LTIAAS unreachable), not something the platform asked. */
  holdLocal: boolean;
  pace: Pace;
  /** Throttling answers not yet written down (see takeThrottled). */
  throttled: number;
}

export class PlatformGate {
  private lanes = new Map<string, Lane>();
  private inFlightMax = new Map<string, number>();

  /**
   * `limit`: the default ceiling (PLATFORM_CONCURRENCY). `fixed`: the window stays at the ceiling
   * whatever the platform answers (no pacing; throttled answers are still counted) — only for
   * measuring what pacing is worth (`npm run bench sync`).
   */
  constructor(
    readonly limit: number,
    private readonly opts: { fixed?: boolean } = {},
  ) {}

  private lane(platformId: string): Lane {
    let lane = this.lanes.get(platformId);
    if (!lane) this.lanes.set(platformId, (lane = { active: 0, waiters: [], holdUntil: 0, holdLocal: false, pace: newPace(this.limit), throttled: 0 }));
    return lane;
  }

  /**
   * The platform's ceiling (null: the default) and, where it is shared through the database, its
   * window: `adopt` takes that window (a step under Inngest sees what other processes learned); else
   * the database's window only seeds a platform this process has not paced yet.
   */
  configure(platformId: string, o: { ceiling: number | null; window?: number | null; adopt?: boolean }): void {
    const fresh = !this.lanes.has(platformId);
    const lane = this.lane(platformId);
    setCeiling(lane.pace, o.ceiling ?? this.limit);
    if ((fresh || o.adopt) && o.window != null && !this.opts.fixed) lane.pace.window = Math.max(1, Math.min(lane.pace.ceiling, o.window));
    this.wake(lane);
  }

  /** Requests in flight the platform's window allows now. */
  window(platformId: string): number {
    return this.lane(platformId).pace.window;
  }

  /** One answer of the platform (any call): it paces the window, and may hold the platform. */
  observe(platformId: string, answer: PaceAnswer, now = Date.now()): void {
    const lane = this.lane(platformId);
    if (answer.throttled) lane.throttled++;
    if (this.opts.fixed) return;
    const { holdMs } = paceAnswer(lane.pace, answer, now);
    if (holdMs) this.hold(platformId, now + holdMs);
    this.wake(lane);
  }

  /** Throttling answers since the last call (they are written down per minute by the caller). */
  takeThrottled(platformId: string): number {
    const lane = this.lanes.get(platformId);
    const n = lane?.throttled ?? 0;
    if (lane) lane.throttled = 0;
    return n;
  }

  /** A wider window (or a new ceiling) lets waiting callers in. */
  private wake(lane: Lane): void {
    for (let free = lane.pace.window - lane.active; free > 0 && lane.waiters.length; free--) lane.waiters.shift()?.();
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
        if (queued && lane.active < lane.pace.window) lane.waiters.shift()?.();
        return undefined;
      }
      if (lane.active < lane.pace.window) {
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
      // Only as many callers in as the window allows now (it may have narrowed meanwhile).
      if (lane.active < lane.pace.window) lane.waiters.shift()?.();
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

/** A throttling answer (it narrows the window): 429, or Canvas's 403 "Rate Limit Exceeded". */
export function isThrottle(error: unknown): boolean {
  const e = error as LtiaasError | undefined;
  return e?.name === "LtiaasError" && e.kind === "retry_later" && (e.status === 429 || e.status === 403);
}

/**
 * Watches one call's answers for the gate's pacing: hand `options` to the call (the caller's own
 * options kept), then `done(error)` once it settled.
 */
export function watch(gate: PlatformGate, platformId: string, opts?: CallOptions): { options: CallOptions; done(error?: unknown): void } {
  let last: AnswerMeta | undefined;
  return {
    options: {
      ...opts,
      onAnswer: (m) => {
        last = m;
        opts?.onAnswer?.(m);
      },
    },
    done(error?: unknown) {
      // A call that never reached the network (its input refused, a claim lost) tells nothing.
      if (!last) return;
      gate.observe(platformId, { status: last.status, throttled: error !== undefined && isThrottle(error), rateLimit: last.rateLimit });
    },
  };
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
