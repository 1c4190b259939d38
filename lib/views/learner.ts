/**
 * The learner's side: a short real quiz, its questions chosen by the link (quizzes.ts) and scored on
 * the server, never trusting the browser's total; and "your score, and when it reached your LMS"
 * read back from the ledger.
 */
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { rowsOf, toDate, toNullableNumber } from "../db/rows";
import { isGraderScore } from "../grades/retakes";
import { QUIZ_SETS, type QuizQuestion } from "./quizzes";

export type { QuizQuestion } from "./quizzes";

/** What picks a link's quiz: the assignment's and the course's titles, and the link's identity. */
export interface QuizLink {
  resourceLinkId: string;
  title: string | null;
  course: { contextId: string; title: string | null };
  platform: { platformId: string };
}

export interface Quiz {
  topic: string;
  questions: QuizQuestion[];
}

/** Every quiz has this many questions, one point each. */
export const QUIZ_MAXIMUM = 5;

/**
 * The quiz of one resource link: the set whose subject the assignment's title names, else the
 * course's, else one picked by the link's identity (stable for the link, different across links).
 * Chosen on the server from the link the session is for, both to show and to score: the browser
 * never says which quiz it answered.
 */
export function quizFor(link: QuizLink): Quiz {
  const bySubject = (text: string | null) => (text ? QUIZ_SETS.find((s) => s.subject.test(text)) : undefined);
  const chosen = bySubject(link.title) ?? bySubject(link.course.title) ?? QUIZ_SETS[stableIndex(`${link.platform.platformId}\n${link.course.contextId}\n${link.resourceLinkId}`, QUIZ_SETS.length)];
  return { topic: chosen.topic, questions: chosen.questions };
}

function stableIndex(key: string, n: number): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) % n;
}

const choice = z.enum(["a", "b", "c", "d"]);

/**
 * Every quiz's form has the same fields (q1…q5, each a…d), so a form can be read back before the
 * session says which quiz it was (a refused submit hands the choices back).
 */
export const QUIZ_FIELDS = { questions: Array.from({ length: QUIZ_MAXIMUM }, (_, i) => `q${i + 1}`), choices: choice.options } as const;

export type QuizAnswers = Record<string, string>;

/** Reads answers out of a posted form; the unanswered questions when incomplete. */
export function readAnswers(quiz: Quiz, form: { get(name: string): unknown }): { answers: QuizAnswers } | { missing: string[] } {
  const schema = z.object(Object.fromEntries(quiz.questions.map((q) => [q.id, choice])) as Record<string, typeof choice>);
  const raw = Object.fromEntries(quiz.questions.map((q) => [q.id, form.get(q.id)]));
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { answers: parsed.data as QuizAnswers };
  return { missing: quiz.questions.filter((q) => !choice.safeParse(raw[q.id]).success).map((q) => q.id) };
}

export function scoreQuiz(quiz: Quiz, answers: QuizAnswers): { correct: number; total: number } {
  return { correct: quiz.questions.filter((q) => answers[q.id] === q.answer).length, total: quiz.questions.length };
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
