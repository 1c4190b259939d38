/**
 * One score, one shape: what the ledger keeps of a revision (`LedgerScore`), read from the row's
 * columns by one function and turned into the AGS score LTIAAS takes by another. The columns use the
 * table's own names everywhere they travel in raw SQL (jsonb_to_recordset included).
 */
import { z } from "zod";
import { ACTIVITY_PROGRESS, GRADING_PROGRESS, type ActivityProgress, type GradingProgress, type Score } from "../ltiaas";

export interface LedgerScore {
  scoreGiven: number | null;
  scoreMaximum: number | null;
  comment: string | null;
  activityProgress: ActivityProgress;
  gradingProgress: GradingProgress;
}

/** The score columns of grade_rows (and grade_revisions), as raw SQL returns them. */
export interface ScoreColumns {
  score_given: number | string | null;
  score_maximum: number | string | null;
  comment: string | null;
  activity_progress: string;
  grading_progress: string;
}

const progress = z.object({ activity_progress: z.enum(ACTIVITY_PROGRESS), grading_progress: z.enum(GRADING_PROGRESS) });

const num = (v: number | string | null) => (v === null ? null : Number(v));

/** A row's score. The ledger only stores the AGS vocabulary (the entry schema checks it): checked again here. */
export function scoreOfRow(row: ScoreColumns): LedgerScore {
  const p = progress.parse(row);
  return {
    scoreGiven: num(row.score_given),
    scoreMaximum: num(row.score_maximum),
    comment: row.comment,
    activityProgress: p.activity_progress,
    gradingProgress: p.grading_progress,
  };
}

/** The score as the ledger's statements take it (jsonb_to_recordset with the table's column names). */
export function scoreColumns(s: LedgerScore): ScoreColumns {
  return {
    score_given: s.scoreGiven,
    score_maximum: s.scoreMaximum,
    comment: s.comment,
    activity_progress: s.activityProgress,
    grading_progress: s.gradingProgress,
  };
}

/** A grade the LMS shows: later non-graded progress would clear it. */
export const isGrade = (s: LedgerScore) => s.gradingProgress === "FullyGraded" && s.scoreGiven !== null;

/** The AGS score for one user: scoreMaximum with every scoreGiven, and always a comment. */
export function agsScore(userId: string, s: LedgerScore): Score {
  return {
    userId,
    activityProgress: s.activityProgress,
    gradingProgress: s.gradingProgress,
    ...(s.scoreMaximum !== null ? { scoreMaximum: s.scoreMaximum } : {}),
    ...(s.scoreGiven !== null ? { scoreGiven: s.scoreGiven } : {}),
    // Sent on every update: a score without one clears the comment in some LMSs.
    comment: s.comment ?? "",
  };
}
