/**
 * Quiz retakes: which of a learner's attempts counts. A retake must never silently lower a grade, so
 * a link keeps the learner's best attempt unless its teacher chose the latest; and a score from the
 * external grader or a correction is never replaced by a quiz attempt on the same link. The rules
 * hold in the ledger's one statement (record.ts), which still audits every attempt, with a note
 * saying why one was not applied.
 */
import { sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";
import type { ScoreSource } from "./entry";

export const KEEP_ATTEMPT = ["best", "latest"] as const;
export type KeepAttempt = (typeof KEEP_ATTEMPT)[number];
export const keepAttemptSchema = z.enum(KEEP_ATTEMPT);
export const DEFAULT_KEEP_ATTEMPT: KeepAttempt = "best";

/** The quiz's own scores; every other source is a grader's score or a correction of one. */
export const ATTEMPT_SOURCE: ScoreSource = "activity";

/**
 * Scores a quiz attempt never replaces: the external grader's, and corrections (a backfill file,
 * with or without overwrite). Re-sends do not change who scored a row (see grade_rows.scored_by).
 */
const GRADER_SOURCES: readonly string[] = ["webhook", "backfill", "overwrite"];

/** Audit notes of attempts not applied. */
export const ATTEMPT_NOTES = { graderScore: "grader_score", keptBest: "kept_best" } as const;

export const isGraderScore = (scoredBy: string): boolean => GRADER_SOURCES.includes(scoredBy);

/** A score as a share of its maximum; no score at all counts below any score. */
export function share(given: number | string | null, maximum: number | string | null): number {
  if (given === null || maximum === null || Number(maximum) === 0) return -1;
  return Number(given) / Number(maximum);
}

/**
 * The ledger statement's guard (ON CONFLICT … DO UPDATE WHERE; `g` the row, `excluded` the new
 * score): may this entry replace the row's score? Only attempts are restricted. `share` above is the
 * same arithmetic (float8 division), so the audit note agrees with what the statement did.
 */
export function attemptMayReplace(source: ScoreSource): SQL {
  if (source !== ATTEMPT_SOURCE) return sql`true`;
  const graders = sql.join(GRADER_SOURCES.map((s) => sql`${s}::text`), sql`, `);
  return sql`(coalesce(g.scored_by, g.source) NOT IN (${graders})
    AND ((SELECT rl.keep_attempt FROM resource_links rl WHERE rl.id = g.resource_link_ref) = 'latest'
      OR coalesce(excluded.score_given / nullif(excluded.score_maximum, 0), -1) >= coalesce(g.score_given / nullif(g.score_maximum, 0), -1)))`;
}

/** Why an attempt the statement did not apply was kept out (null: for another reason). */
export function attemptNote(
  keep: KeepAttempt,
  row: { scored_by: string | null; source: string; score_given: number | string | null; score_maximum: number | string | null },
  attempt: { scoreGiven?: number; scoreMaximum?: number },
): string | null {
  if (isGraderScore(row.scored_by ?? row.source)) return ATTEMPT_NOTES.graderScore;
  if (keep === "best" && share(attempt.scoreGiven ?? null, attempt.scoreMaximum ?? null) < share(row.score_given, row.score_maximum))
    return ATTEMPT_NOTES.keptBest;
  return null;
}

export const asKeepAttempt = (v: unknown): KeepAttempt => keepAttemptSchema.catch(DEFAULT_KEEP_ATTEMPT).parse(v);

/** The link's rule (the default for a link not known). */
export async function keepAttemptOf(db: Db, resourceLinkRef: string): Promise<KeepAttempt> {
  const [r] = await rowsOf<{ keep_attempt: string }>(db, sql`SELECT keep_attempt FROM resource_links WHERE id = ${resourceLinkRef}::uuid`);
  return asKeepAttempt(r?.keep_attempt);
}

/** The teacher's choice; it applies to attempts from now on (grades already kept stay as they are). */
export async function setKeepAttempt(db: Db, resourceLinkRef: string, keep: KeepAttempt): Promise<boolean> {
  const rows = await rowsOf(
    db,
    sql`UPDATE resource_links SET keep_attempt = ${keepAttemptSchema.parse(keep)}::text, updated_at = now()
        WHERE id = ${resourceLinkRef}::uuid RETURNING id`,
  );
  return rows.length > 0;
}
