/**
 * "Most urgent first", shared by /api/status, /admin and the teacher's page so they never disagree:
 * a key that needs a relaunch, then failing (failed rows, a missing column, or scores a reconcile
 * found missing in the LMS), then anything pending, then ok. Read from the trigger-kept counters
 * (gc) so nothing scans the ledger. Expects the aliases `rl` (resource_links), `sk`
 * (service_keys) and `gc` (grade_counters).
 */
import { sql } from "drizzle-orm";

export const URGENCY_STATES = ["needs_relaunch", "failing", "pending", "ok"] as const;
export type UrgencyState = (typeof URGENCY_STATES)[number];

/** The state's index in URGENCY_STATES: the first sort key. */
export const URGENCY_RANK = sql`CASE WHEN sk.state = 'needs_relaunch' THEN 0
  WHEN coalesce(gc.failed, 0) > 0 OR rl.line_item_state = 'missing' OR rl.drift_missing > 0 THEN 1
  WHEN coalesce(gc.pending, 0) > 0 THEN 2 ELSE 3 END`;

/** The second sort key: the oldest pending score first; 'infinity' sorts links with nothing pending last. */
export const OLDEST_PENDING = sql`coalesce(CASE WHEN coalesce(gc.pending, 0) > 0 THEN gc.oldest_pending_at END, 'infinity'::timestamptz)`;
