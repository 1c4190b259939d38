/**
 * Backfill by selector: the current scores of the selected rows become new revisions (audited as
 * backfill) and so are sent again — an explicit request to re-send, unlike a push with nothing
 * changed. A dry run counts and lists what would be sent and changes nothing.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";

export interface BackfillSelector {
  platformId: string;
  contextId?: string;
  resourceLinkId?: string;
  /** Scores recorded at or after this instant. */
  since?: string;
}

export interface BackfillListing {
  platformId: string;
  contextId: string;
  resourceLinkId: string;
  userId: string;
  scoreGiven: number | null;
  scoreMaximum: number | null;
  state: string;
}

export const LIST_LIMIT = 1000;

function where(s: BackfillSelector) {
  return sql`p.platform_id = ${s.platformId}::text
    ${s.contextId !== undefined ? sql`AND c.context_id = ${s.contextId}::text` : sql``}
    ${s.resourceLinkId !== undefined ? sql`AND rl.resource_link_id = ${s.resourceLinkId}::text` : sql``}
    ${s.since !== undefined ? sql`AND g.recorded_at >= ${s.since}::timestamptz` : sql``}
    -- A grade already sent is never followed by a score that would clear it.
    AND NOT (g.grade_sent AND g.grading_progress <> 'FullyGraded')`;
}

const FROM = sql`grade_rows g JOIN resource_links rl ON rl.id = g.resource_link_ref JOIN contexts c ON c.id = rl.context_ref
  JOIN platforms p ON p.id = c.platform_ref`;

export async function previewBackfill(db: Db, s: BackfillSelector): Promise<{ wouldSend: number; rows: BackfillListing[] }> {
  const count = await rowsOf<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM ${FROM} WHERE ${where(s)}`);
  const rows = await rowsOf<BackfillListing>(db, sql`SELECT p.platform_id AS "platformId", c.context_id AS "contextId", rl.resource_link_id AS "resourceLinkId",
      g.user_id AS "userId", g.score_given AS "scoreGiven", g.score_maximum AS "scoreMaximum", g.state
    FROM ${FROM} WHERE ${where(s)} ORDER BY g.id LIMIT ${LIST_LIMIT}::int`);
  return { wouldSend: Number(count[0]?.n ?? 0), rows };
}

export async function reviseSelected(db: Db, s: BackfillSelector): Promise<{ revised: number; contextRefs: string[] }> {
  const rows = await rowsOf<{ context_ref: string; n: number }>(db, sql`WITH picked AS (
      SELECT g.id FROM ${FROM} WHERE ${where(s)}
    ), u AS (
      UPDATE grade_rows g SET revision = g.revision + 1, state = 'pending', reason = NULL,
        pending_since = CASE WHEN g.state = 'pending' THEN g.pending_since ELSE now() END,
        attempts = 0, next_attempt_at = NULL, failed_at = NULL, source = 'backfill', recorded_at = now(), updated_at = now()
      FROM picked WHERE g.id = picked.id
      RETURNING g.*
    ), audit AS (
      INSERT INTO grade_revisions (grade_row_id, revision, applied, note, source, score_given, score_maximum, comment,
        activity_progress, grading_progress, graded_at)
      SELECT id, revision, true, 'resend', 'backfill', score_given, score_maximum, comment, activity_progress, grading_progress, graded_at FROM u
    )
    SELECT context_ref, count(*)::int AS n FROM u GROUP BY context_ref`);
  return { revised: rows.reduce((a, r) => a + Number(r.n), 0), contextRefs: rows.map((r) => r.context_ref) };
}
