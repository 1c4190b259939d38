/** Retry pacing of roster page requests (tests make it quick). */
export interface RosterTuning {
  /** Tries per page before the context's refresh gives up (the previous roster stays). */
  maxAttempts: number;
  /** First wait after a 5xx/timeout without Retry-After; doubles per try, with jitter. */
  backoffBaseMs: number;
  /** A wait longer than this is not slept through inside a run: the refresh fails and retries later. */
  maxWaitMs: number;
}

export const DEFAULT_ROSTER_TUNING: RosterTuning = { maxAttempts: 4, backoffBaseMs: 1_000, maxWaitMs: 30_000 };
