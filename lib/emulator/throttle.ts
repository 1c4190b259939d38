/**
 * The rate limits an LMS puts on a platform's calls, played per platform: Canvas's leaky bucket
 * (canvas-lms app/middleware/request_throttle.rb) and D2L's credit bucket. A request is admitted when
 * it starts and settled when it ends; its answer carries the LMS's rate headers unless LTIAAS is set
 * not to relay them (it may not: the sync engine must also pace on statuses alone).
 */
import { ltiaasError } from "./http";
import type { CanvasBucketParams, D2lBucketParams, ThrottleInput, ThrottleSettings, ThrottleStatus } from "./types";

export const CANVAS_BUCKET_DEFAULTS: Readonly<CanvasBucketParams> = {
  highWaterMark: 600,
  maximum: 800,
  outflowPerSecond: 10,
  upFrontCost: 50,
  requestCost: 1,
};

export const D2L_BUCKET_DEFAULTS: Readonly<D2lBucketParams> = { credits: 50_000, windowSeconds: 60, costPerCall: 10 };

/**
 * The per-request cost at which `inFlight` requests kept in flight, each taking `latencyMs`, are just
 * sustainable: they then arrive at inFlight ÷ latency per second, and that many costs drain each second.
 * (Their reservations, inFlight × upFrontCost, must also stay below the high-water mark.)
 */
export function canvasCostForInFlight(inFlight: number, latencyMs: number, outflowPerSecond = CANVAS_BUCKET_DEFAULTS.outflowPerSecond): number {
  if (!(inFlight > 0)) throw new Error("canvasCostForInFlight: inFlight must be > 0");
  return (outflowPerSecond * Math.max(0, latencyMs)) / 1000 / inFlight;
}

export interface Admission {
  /** The LMS's refusal, when the throttle refuses this request (already settled). */
  refusal?: Response;
  /** Ends the request: charges what it cost and gives the headers its answer carries. */
  settle(now: number): Record<string, string>;
}

export interface Throttle {
  readonly settings: ThrottleSettings;
  readonly relayHeaders: boolean;
  admit(now: number): Admission;
  status(now: number): ThrottleStatus;
}

const NO_HEADERS = (): Record<string, string> => ({});
const RATE_HEADERS = /^(x-rate-limit-|x-request-cost$|retry-after$)/;

/** As Ruby prints a Float, which is how Canvas writes its headers: 600.0, 587.5. */
export function rubyFloat(x: number): string {
  const r = Math.round(x * 1e6) / 1e6;
  return Number.isInteger(r) ? r.toFixed(1) : String(r);
}

/** A response without the rate headers, as LTIAAS would pass it on if it does not relay them. */
function withoutRateHeaders(response: Response): Response {
  for (const name of [...response.headers.keys()]) if (RATE_HEADERS.test(name)) response.headers.delete(name);
  return response;
}

function validated<T extends object>(mode: string, params: T): T {
  for (const [name, value] of Object.entries(params)) {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new Error(`throttle ${mode}: ${name} must be a number ≥ 0 (got ${String(value)})`);
    }
  }
  return params;
}

class CanvasBucket implements Throttle {
  private level = 0;
  private touched: number | undefined;
  private refused = 0;

  constructor(
    readonly settings: ThrottleSettings & { mode: "canvas" },
    readonly relayHeaders: boolean,
    startLevel = 0,
  ) {
    this.level = Math.min(settings.maximum, startLevel);
  }

  /** Canvas's increment: leak what drained since the last touch, then add, within [0, maximum]. */
  private increment(amount: number, now: number): void {
    if (this.touched !== undefined && now > this.touched) {
      this.level = Math.max(0, this.level - (this.settings.outflowPerSecond * (now - this.touched)) / 1000);
    }
    if (this.touched === undefined || now > this.touched) this.touched = now;
    this.level = Math.min(this.settings.maximum, Math.max(0, this.level + amount));
  }

  admit(now: number): Admission {
    const { upFrontCost, highWaterMark, requestCost } = this.settings;
    // The reservation counts before the check: about hwm ÷ upFrontCost requests in flight fill the bucket alone.
    this.increment(upFrontCost, now);
    if (this.level >= highWaterMark) {
      // Refused at once, costing nothing: the reservation is given back.
      this.increment(-upFrontCost, now);
      this.refused += 1;
      const refusal = new Response("403 Forbidden (Rate Limit Exceeded)\n", {
        status: 403,
        headers: { "content-type": "text/plain; charset=utf-8", "x-rate-limit-remaining": "0.0" },
      });
      return { refusal: this.relayHeaders ? refusal : withoutRateHeaders(refusal), settle: NO_HEADERS };
    }
    return {
      settle: (end): Record<string, string> => {
        this.increment(requestCost - upFrontCost, end);
        if (!this.relayHeaders) return {};
        return { "x-request-cost": rubyFloat(requestCost), "x-rate-limit-remaining": rubyFloat(highWaterMark - this.level) };
      },
    };
  }

  status(now: number): ThrottleStatus {
    this.increment(0, now);
    return {
      settings: { ...this.settings },
      relayHeaders: this.relayHeaders,
      level: this.level,
      remaining: this.settings.highWaterMark - this.level,
      refused: this.refused,
    };
  }
}

class D2lBucket implements Throttle {
  private used = 0;
  private windowStart: number | undefined;
  private refused = 0;

  constructor(
    readonly settings: ThrottleSettings & { mode: "d2l" },
    readonly relayHeaders: boolean,
  ) {}

  /** A fixed window from the first call after the last one ran out; it refills whole. */
  private roll(now: number): void {
    if (this.windowStart === undefined || now >= this.windowStart + this.settings.windowSeconds * 1000) {
      this.windowStart = now;
      this.used = 0;
    }
  }

  private resetSeconds(now: number): number {
    return Math.max(0, Math.ceil(((this.windowStart ?? now) + this.settings.windowSeconds * 1000 - now) / 1000));
  }

  admit(now: number): Admission {
    this.roll(now);
    const { credits, costPerCall } = this.settings;
    if (credits - this.used < costPerCall) {
      this.refused += 1;
      const reset = this.resetSeconds(now);
      const refusal = ltiaasError(429, "Rate limit exceeded", "Too many requests; retry after the Retry-After delay.", {
        "retry-after": String(Math.max(1, reset)),
        "x-rate-limit-remaining": String(credits - this.used),
        "x-rate-limit-reset": String(reset),
      });
      return { refusal: this.relayHeaders ? refusal : withoutRateHeaders(refusal), settle: NO_HEADERS };
    }
    this.used += costPerCall;
    return {
      settle: (end): Record<string, string> => {
        if (!this.relayHeaders) return {};
        return {
          "x-rate-limit-remaining": String(credits - this.used),
          "x-rate-limit-reset": String(this.resetSeconds(end)),
          "x-request-cost": String(costPerCall),
        };
      },
    };
  }

  status(now: number): ThrottleStatus {
    this.roll(now);
    return {
      settings: { ...this.settings },
      relayHeaders: this.relayHeaders,
      level: this.used,
      remaining: this.settings.credits - this.used,
      refused: this.refused,
    };
  }
}

/** A throttle from its settings; undefined for mode "none" (nothing to do per request). Throws on a bad parameter. */
export function createThrottle(input: ThrottleInput): Throttle | undefined {
  const relayHeaders = input.relayHeaders ?? true;
  if (input.mode === "none") return undefined;
  if (input.mode === "canvas") {
    const p = validated("canvas", {
      highWaterMark: input.highWaterMark ?? CANVAS_BUCKET_DEFAULTS.highWaterMark,
      maximum: input.maximum ?? Math.max(CANVAS_BUCKET_DEFAULTS.maximum, input.highWaterMark ?? 0),
      outflowPerSecond: input.outflowPerSecond ?? CANVAS_BUCKET_DEFAULTS.outflowPerSecond,
      upFrontCost: input.upFrontCost ?? CANVAS_BUCKET_DEFAULTS.upFrontCost,
      requestCost: input.requestCost ?? CANVAS_BUCKET_DEFAULTS.requestCost,
    });
    const { startLevel } = validated("canvas", { startLevel: input.startLevel ?? 0 });
    return new CanvasBucket({ mode: "canvas", ...p }, relayHeaders, startLevel);
  }
  if (input.mode === "d2l") {
    const p = validated("d2l", {
      credits: input.credits ?? D2L_BUCKET_DEFAULTS.credits,
      windowSeconds: input.windowSeconds ?? D2L_BUCKET_DEFAULTS.windowSeconds,
      costPerCall: input.costPerCall ?? D2L_BUCKET_DEFAULTS.costPerCall,
    });
    if (p.windowSeconds <= 0) throw new Error("throttle d2l: windowSeconds must be > 0");
    return new D2lBucket({ mode: "d2l", ...p }, relayHeaders);
  }
  throw new Error(`Unknown throttle mode: ${String((input as { mode: unknown }).mode)}`);
}

/** What throttle(platformId) says for a platform without one. */
export function noThrottleStatus(): ThrottleStatus {
  return { settings: { mode: "none" }, relayHeaders: true, level: 0, remaining: Number.POSITIVE_INFINITY, refused: 0 };
}
