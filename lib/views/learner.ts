/**
 * The learner's side: a short real quiz (scored on the server, never trusting the browser's total),
 * and "your score, and when it reached your LMS" read back from the ledger.
 */
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { rowsOf, toDate, toNullableNumber } from "../db/rows";
import { isGraderScore } from "../grades/retakes";

export interface QuizQuestion {
  id: string;
  prompt: string;
  choices: { id: string; text: string }[];
  answer: string;
}

export const QUIZ: QuizQuestion[] = [
  {
    id: "q1",
    prompt: "Which organelle makes most of a cell's ATP?",
    choices: [
      { id: "a", text: "Nucleus" },
      { id: "b", text: "Mitochondrion" },
      { id: "c", text: "Golgi apparatus" },
      { id: "d", text: "Ribosome" },
    ],
    answer: "b",
  },
  {
    id: "q2",
    prompt: "What carries genetic information in most living things?",
    choices: [
      { id: "a", text: "DNA" },
      { id: "b", text: "ATP" },
      { id: "c", text: "Glucose" },
      { id: "d", text: "Cellulose" },
    ],
    answer: "a",
  },
  {
    id: "q3",
    prompt: "Which structure do plant cells have and animal cells lack?",
    choices: [
      { id: "a", text: "Cell membrane" },
      { id: "b", text: "Cytoplasm" },
      { id: "c", text: "Cell wall" },
      { id: "d", text: "Nucleus" },
    ],
    answer: "c",
  },
  {
    id: "q4",
    prompt: "Photosynthesis takes place mainly in the…",
    choices: [
      { id: "a", text: "Chloroplasts" },
      { id: "b", text: "Vacuoles" },
      { id: "c", text: "Lysosomes" },
      { id: "d", text: "Centrioles" },
    ],
    answer: "a",
  },
  {
    id: "q5",
    prompt: "How many chromosomes does a typical human body cell have?",
    choices: [
      { id: "a", text: "23" },
      { id: "b", text: "44" },
      { id: "c", text: "46" },
      { id: "d", text: "48" },
    ],
    answer: "c",
  },
];

export const QUIZ_MAXIMUM = QUIZ.length;

const choice = z.enum(["a", "b", "c", "d"]);
/** The form as posted: one answer per question, every question answered. */
const quizAnswersSchema = z.object(Object.fromEntries(QUIZ.map((q) => [q.id, choice])) as Record<string, typeof choice>);

export type QuizAnswers = Record<string, string>;

/** Reads answers out of a posted form; `null` with the unanswered questions when incomplete. */
export function readAnswers(form: { get(name: string): unknown }): { answers: QuizAnswers } | { missing: string[] } {
  const raw = Object.fromEntries(QUIZ.map((q) => [q.id, form.get(q.id)]));
  const parsed = quizAnswersSchema.safeParse(raw);
  if (parsed.success) return { answers: parsed.data as QuizAnswers };
  return { missing: QUIZ.filter((q) => !choice.safeParse(raw[q.id]).success).map((q) => q.id) };
}

export function scoreQuiz(answers: QuizAnswers): { correct: number; total: number } {
  return { correct: QUIZ.filter((q) => answers[q.id] === q.answer).length, total: QUIZ.length };
}

export interface LearnerResult {
  scoreGiven: number | null;
  scoreMaximum: number | null;
  recordedAt: Date;
  gradedAt: Date;
  state: "pending" | "sent" | "skipped" | "failed" | "overridden";
  reason: string | null;
  /** Overridden: the grade the teacher set in the LMS (null score: they cleared it). */
  lms: { scoreGiven: number | null; scoreMaximum: number | null } | null;
  /** When the LMS accepted the current score (only when the sent revision is the current one). */
  reachedLmsAt: Date | null;
  revision: number;
  /** The score came from the external grader or a correction: a quiz attempt does not replace it. */
  fromGrader: boolean;
  /** The learner's latest quiz attempt, as the ledger audited it (applied or kept out, and why). */
  lastAttempt: { scoreGiven: number | null; scoreMaximum: number | null; at: Date; applied: boolean; note: string | null } | null;
}

/** The learner's current score on this link, or null before their first attempt. */
export async function learnerResult(db: Db, input: { resourceLinkRef: string; userId: string }): Promise<LearnerResult | null> {
  const [r] = await rowsOf<{
    score_given: number | string | null;
    score_maximum: number | string | null;
    recorded_at: Date | string;
    graded_at: Date | string;
    state: LearnerResult["state"];
    reason: string | null;
    last_sent_at: Date | string | null;
    sent_revision: number | null;
    revision: number;
    scored_by: string;
    lms_score: number | string | null;
    lms_maximum: number | string | null;
    a_given: number | string | null;
    a_maximum: number | string | null;
    a_at: Date | string | null;
    a_applied: boolean | null;
    a_note: string | null;
  }>(
    db,
    sql`SELECT g.score_given, g.score_maximum, g.recorded_at, g.graded_at, g.state, g.reason, g.last_sent_at, g.sent_revision, g.revision,
               coalesce(g.scored_by, g.source) AS scored_by, g.lms_score, g.lms_maximum,
               a.score_given AS a_given, a.score_maximum AS a_maximum, a.recorded_at AS a_at, a.applied AS a_applied, a.note AS a_note
        FROM grade_rows g
        LEFT JOIN LATERAL (SELECT * FROM grade_revisions v WHERE v.grade_row_id = g.id AND v.source = 'activity' ORDER BY v.id DESC LIMIT 1) a ON true
        WHERE g.resource_link_ref = ${input.resourceLinkRef}::uuid AND g.user_id = ${input.userId}::text`,
  );
  if (!r) return null;
  return {
    scoreGiven: toNullableNumber(r.score_given),
    scoreMaximum: toNullableNumber(r.score_maximum),
    recordedAt: toDate(r.recorded_at)!,
    gradedAt: toDate(r.graded_at)!,
    state: r.state,
    reason: r.reason,
    lms: r.state === "overridden" ? { scoreGiven: toNullableNumber(r.lms_score), scoreMaximum: toNullableNumber(r.lms_maximum) } : null,
    reachedLmsAt: r.state === "sent" && r.sent_revision === r.revision ? toDate(r.last_sent_at) : null,
    revision: r.revision,
    fromGrader: isGraderScore(r.scored_by),
    lastAttempt:
      r.a_at === null
        ? null
        : { scoreGiven: toNullableNumber(r.a_given), scoreMaximum: toNullableNumber(r.a_maximum), at: toDate(r.a_at)!, applied: Boolean(r.a_applied), note: r.a_note },
  };
}
