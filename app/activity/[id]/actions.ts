"use server";
/** The quiz's submit: re-checks the session, scores on the server, records through the ledger. */
import { redirect } from "next/navigation";
import { actionAccess, ACCESS_WORDS, type ActionAccess } from "@/app/_lib/action-session";
import { field, formPayload, UNREADABLE_FORM } from "@/app/_lib/form-payload";
import { recordScores } from "@/lib/grades/record";
import { pushSoon } from "@/lib/jobs/requests";
import { errorFields, log } from "@/lib/log";
import { withSession } from "@/lib/session/session";
import { QUIZ_FIELDS, quizFor, readAnswers, scoreQuiz } from "@/lib/views/learner";

export interface QuizState {
  error: string | null;
  missing: string[];
  /** What the learner chose, so a refused submit shows the form as they left it. */
  answers?: Record<string, string>;
}

const NOT_SAVED = "Your answers were not saved: Gradesync could not record them just now. Submit them again in a moment.";

/** The choices as posted (only known questions, only strings), to put back into the form. */
function chosen(form: FormData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const q of QUIZ_FIELDS.questions) {
    const v = field(form, q);
    if (v !== null && (QUIZ_FIELDS.choices as readonly string[]).includes(v)) out[q] = v;
  }
  return out;
}

export async function submitQuizAction(_prev: QuizState, payload: FormData): Promise<QuizState> {
  const form = formPayload(payload);
  if (!form) return { error: UNREADABLE_FORM, missing: [] };
  const answers = chosen(form);
  // The access check reads the database too: when that fails, nothing was recorded, and the
  // learner must hear so (and keep their answers), not an error page saying nothing is lost.
  let access: ActionAccess;
  try {
    access = await actionAccess(form);
  } catch (error) {
    log.error("activity.access_failed", errorFields(error));
    return { error: NOT_SAVED, missing: [], answers };
  }
  if (!access.ok) return { error: ACCESS_WORDS[access.error], missing: [], answers };
  if (!access.member) return { error: ACCESS_WORDS.no_session, missing: [], answers };
  // The quiz is the link's, from the session: the form cannot choose which one it is scored against.
  const quiz = quizFor(access.view);
  const read = readAnswers(quiz, form);
  if ("missing" in read) {
    const numbers = read.missing.map((id) => quiz.questions.findIndex((q) => q.id === id) + 1);
    return { error: `Answer every question before you submit (missing: ${numbers.join(", ")}).`, missing: read.missing, answers };
  }
  const { correct, total } = scoreQuiz(quiz, read.answers);
  const { view, member, token } = access;
  const submittedAt = new Date().toISOString();
  try {
    const recorded = await recordScores(
      [
        {
          platformId: view.platform.platformId,
          contextId: view.course.contextId,
          resourceLinkId: view.resourceLinkId,
          userId: member.userId,
          scoreGiven: correct,
          scoreMaximum: total,
          comment: `Quiz: ${correct} of ${total} correct`,
          activityProgress: "Completed",
          gradingProgress: "FullyGraded",
          // Scored the moment it is handed in: both times are the submit's.
          gradedAt: submittedAt,
          submittedAt,
        },
      ],
      { source: "activity" },
    );
    if (!recorded.duplicate) pushSoon(recorded.changed);
  } catch (error) {
    log.error("activity.record_failed", { resourceLinkRef: view.id, ...errorFields(error) });
    return { error: NOT_SAVED, missing: [], answers };
  }
  redirect(withSession(`/activity/${view.id}?done=1`, token));
}
