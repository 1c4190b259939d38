/** What a push works with, and its timings (tests make them quick; a hook lets a test crash it). */
import type { Db } from "../../db/client";
import type { PlatformGate } from "../../ltiaas/gate";
import type { GradeClient } from "../client";

/** At most this many scores per chunk (per Inngest step). */
export const CHUNK_SIZE = 100;
/**
 * Successful answers are recorded in batches of this many (one statement, one trigger run): a
 * crash can then leave up to this many answers unrecorded — those rows are sent again, which the
 * rules allow only for answers never recorded.
 */
export const SENT_BATCH = 25;
export const MAX_ATTEMPTS = 5;
/** Shortest pause after an answer that asked us to wait (429/503 with `Retry-After`). */
export const MIN_RETRY_AFTER_MS = 1_000;
/**
 * LTIAAS could not be reached at all (connection refused, no such host): its platform is held this
 * long in this process, like a Retry-After. Longer than a run waits inline (maxWaitMs), so the run
 * ends at once with its rows pending instead of retrying each one with backoff.
 */
export const UNREACHABLE_HOLD_MS = 60_000;

/** Points a test can crash at (a hook that throws). */
export type CrashPoint = "claimed" | "before_send" | "answered" | "recorded";

export interface PushTuning {
  leaseMs: number;
  /** First retry delay for 5xx/timeouts; doubles per attempt, with jitter. */
  backoffBaseMs: number;
  /** Longest wait inside one run for rows to become due again (else the run ends, rows pending). */
  maxWaitMs: number;
  /** Read what the LMS holds before writing over it (off only to measure what the protection costs). */
  readBack?: boolean;
  hook?: (point: CrashPoint, rowId: number) => void | Promise<void>;
}

export const DEFAULT_PUSH_TUNING: PushTuning = { leaseMs: 5 * 60_000, backoffBaseMs: 2_000, maxWaitMs: 30_000 };

export interface PushDeps {
  db: Db;
  client: GradeClient;
  gate: PlatformGate;
  runId: string | null;
  /** Requests of one chunk in flight at once, at most (the platform's pacing window bounds it too). */
  parallel: number;
  /**
   * The pacing window is shared through the database (under Inngest, each step starts from what other
   * processes learned); inline the process's gate is the platform's one pacer.
   */
  sharedPacing: boolean;
  leaseMs: number;
  backoffBaseMs: number;
  /**
   * Longest a claimed row (or a line item look-up) waits for a platform hold (Retry-After) before it
   * is handed back, due when the hold ends. Inline a short hold is waited out; under Inngest the step
   * ends at once and RetryAfterError reschedules it.
   */
  maxHoldWaitMs: number;
  readBack?: boolean;
  hook?: PushTuning["hook"];
}
