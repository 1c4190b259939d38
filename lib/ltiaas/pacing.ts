/**
 * Pacing one platform by what it answers: a window of requests in flight that starts at the
 * platform's ceiling, halves on a throttling answer (429, Canvas's 403 "Rate Limit Exceeded") and
 * holds a while, and widens again one step per window of calm answers, up to the ceiling. Rate
 * headers, where they come, slow it before the LMS refuses anything: a credit bucket with a reset
 * (D2L) holds the platform until the reset when fewer requests are left than the window sends; a
 * leaky bucket without one (Canvas: X-Rate-Limit-Remaining in bucket units) stops widening while it
 * fills and narrows while it keeps filling past half. Without headers, statuses alone pace it.
 * Pure: the gate calls it with each answer and the time.
 */
import type { RateLimit } from "./errors";

export interface Pace {
  /** Requests in flight allowed now. */
  window: number;
  ceiling: number;
  /** Calm answers since the window last changed. */
  calm: number;
  /** No widening before this (ms since epoch): after a cut, and while a bucket fills. */
  quietUntil: number;
  lastCutAt: number;
  /** The most remaining a rate header has shown (a leaky bucket's empty level). */
  maxRemaining: number;
  /** A remaining figure sampled about once a second, to see whether the bucket fills. */
  sample?: { at: number; remaining: number };
  /** Bucket units per second the bucket moved at the last sample (negative: filling). */
  trend: number;
}

export interface PaceAnswer {
  /** HTTP status, null when nothing reached LTIAAS. */
  status: number | null;
  /** The answer refused for throttling. */
  throttled: boolean;
  rateLimit?: RateLimit;
}

export const PACING = {
  /** Answers refused together (those in flight at once) cut the window once. */
  cutEveryMs: 1_000,
  /** After a cut, the window holds this long before it widens again. */
  quietAfterCutMs: 5_000,
  /** A leaky bucket filling with less than this fraction left: no widening. */
  brakeBelow: 0.75,
  /** …and with less than this left while still filling: one step narrower. */
  narrowBelow: 0.5,
};

export function newPace(ceiling: number, window?: number | null): Pace {
  const c = Math.max(1, ceiling);
  return { window: clamp(window ?? c, c), ceiling: c, calm: 0, quietUntil: 0, lastCutAt: -Infinity, maxRemaining: 0, trend: 0 };
}

const clamp = (w: number, ceiling: number) => Math.max(1, Math.min(ceiling, Math.floor(w)));

/** A new ceiling (the operator's, or PLATFORM_CONCURRENCY): a window above it comes down with it. */
export function setCeiling(p: Pace, ceiling: number): void {
  p.ceiling = Math.max(1, ceiling);
  p.window = clamp(p.window, p.ceiling);
}

function cut(p: Pace, to: number, now: number): void {
  p.window = clamp(to, p.ceiling);
  p.lastCutAt = now;
  p.quietUntil = Math.max(p.quietUntil, now + PACING.quietAfterCutMs);
  p.calm = 0;
}

/** Takes one answer into account; answers how long to hold the whole platform, if at all. */
export function paceAnswer(p: Pace, a: PaceAnswer, now: number): { holdMs?: number } {
  if (a.throttled) {
    if (now - p.lastCutAt >= PACING.cutEveryMs) cut(p, p.window / 2, now);
    return {};
  }
  const rl = a.rateLimit;
  if (rl?.remaining !== undefined) {
    const held = byHeaders(p, rl, now);
    if (held) return held;
  }
  if (a.status === null || a.status < 200 || a.status > 299) return {};
  p.calm++;
  if (p.calm >= p.window && now >= p.quietUntil && p.window < p.ceiling) {
    p.window++;
    p.calm = 0;
  }
  return {};
}

function byHeaders(p: Pace, rl: RateLimit, now: number): { holdMs?: number } | undefined {
  const remaining = rl.remaining!;
  if (rl.resetSeconds !== undefined) {
    // A credit bucket that refills at a known time: stop before it runs dry, until it refills.
    const left = rl.cost && rl.cost > 0 ? remaining / rl.cost : remaining;
    if (left < p.window) return { holdMs: Math.max(0, rl.resetSeconds * 1000) };
    return undefined;
  }
  // A leaky bucket: remaining is how far it is from refusing. Watch whether it fills.
  p.maxRemaining = Math.max(p.maxRemaining, remaining);
  if (!p.sample) p.sample = { at: now, remaining };
  else if (now - p.sample.at >= 1_000) {
    p.trend = ((remaining - p.sample.remaining) * 1_000) / (now - p.sample.at);
    p.sample = { at: now, remaining };
  }
  const left = p.maxRemaining > 0 ? remaining / p.maxRemaining : 1;
  const filling = p.trend < 0;
  if (remaining <= 0 || (filling && left < PACING.narrowBelow)) {
    if (now - p.lastCutAt >= PACING.cutEveryMs) cut(p, p.window - 1, now);
    return {};
  }
  if (filling || left < PACING.brakeBelow) {
    // No wider while the bucket fills (or is past a quarter full); the calm count starts over.
    p.quietUntil = Math.max(p.quietUntil, now + PACING.cutEveryMs);
    p.calm = 0;
  }
  return undefined;
}
