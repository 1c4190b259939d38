/**
 * The teacher's "Send Gradesync's score": rows whose LMS grade a person set (overridden) get a new
 * revision of their current score (source `overwrite`, same submission time), sent over the LMS's
 * grade without Canvas's keep-the-teacher's-grade flag, and audited as an overwrite. Only what the
 * teacher was shown is overwritten: a row whose LMS value changed since (or that is no longer
 * overridden) is left alone and reported.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";

/** One row as the teacher saw it: the learner and the LMS's value shown. */
export interface ShownOverride {
  userId: string;
  lmsScore: number | null;
  lmsMaximum: number | null;
}

export interface OverwriteResult {
  overwritten: number;
  /** Shown rows left alone: no longer overridden, or the LMS's value changed since they were shown. */
  changed: string[];
  contextRef: string | null;
}

export async function overwriteShown(db: Db, resourceLinkRef: string, shown: ShownOverride[]): Promise<OverwriteResult> {
  if (!shown.length) return { overwritten: 0, changed: [], contextRef: null };
  const rows = await rowsOf<{ user_id: string; context_ref: string }>(
    db,
    sql`WITH shown AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(shown.map((s) => ({ u: s.userId, s: s.lmsScore, m: s.lmsMaximum })))}::jsonb)
          AS x(u text, s float8, m float8)
      ), picked AS (
        SELECT g.id FROM grade_rows g JOIN shown ON g.user_id = shown.u
        WHERE g.resource_link_ref = ${resourceLinkRef}::uuid AND g.state = 'overridden'
          AND g.lms_score IS NOT DISTINCT FROM shown.s AND g.lms_maximum IS NOT DISTINCT FROM shown.m
      ), u AS (
        UPDATE grade_rows g SET revision = g.revision + 1, state = 'pending', reason = NULL, pending_since = now(),
          attempts = 0, next_attempt_at = NULL, failed_at = NULL, source = 'overwrite', recorded_at = now(), updated_at = now()
        FROM picked WHERE g.id = picked.id
        RETURNING g.*
      ), audit AS (
        INSERT INTO grade_revisions (grade_row_id, revision, applied, note, source, score_given, score_maximum, comment,
          activity_progress, grading_progress, graded_at, submitted_at, started_at)
        SELECT id, revision, true, 'overwrite', 'overwrite', score_given, score_maximum, comment, activity_progress, grading_progress,
          graded_at, submitted_at, started_at FROM u
      )
      SELECT user_id, context_ref FROM u`,
  );
  const done = new Set(rows.map((r) => r.user_id));
  return { overwritten: rows.length, changed: shown.map((s) => s.userId).filter((u) => !done.has(u)), contextRef: rows[0]?.context_ref ?? null };
}
