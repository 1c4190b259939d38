/** Retry pacing of roster page requests (tests make it quick). */
export interface RosterTuning {
  /** Tries per page before the context's refresh gives up (the previous roster stays). */
  maxAttempts: number;
  /** First wait after a 5xx/timeout without Retry-After; doubles per try, with jitter. */
  backoffBaseMs: number;
  /** A wait longer than this is not slept through inside a run: the refresh fails and retries later. */
  maxWaitMs: number;
  /** Contexts refreshed at once by one inline run (the platform gate still bounds each platform). */
  parallelContexts: number;
  /** Inline debounce of the refresh that follows a teacher's launch. */
  debounceMs: number;
}

const DEFAULTS: RosterTuning = { maxAttempts: 4, backoffBaseMs: 1_000, maxWaitMs: 30_000, parallelContexts: 4, debounceMs: 10_000 };

const holder = globalThis as unknown as { __gradesyncRosterTuning?: Partial<RosterTuning> };

export function rosterTuning(): RosterTuning {
  return { ...DEFAULTS, ...holder.__gradesyncRosterTuning };
}

export function setRosterTuningForTests(tuning: Partial<RosterTuning> | undefined): void {
  holder.__gradesyncRosterTuning = tuning;
}
