"use server";
/** The quiz's submit: re-checks the session, scores on the server, records through the ledger. */
import { redirect } from "next/navigation";
import { actionAccess, ACCESS_WORDS } from "@/app/_lib/action-session";
import { recordScores } from "@/lib/grades/record";
import { pushSoon } from "@/lib/jobs/requests";
import { errorFields, log } from "@/lib/log";
import { withSession } from "@/lib/session/session";
import { QUIZ, readAnswers, scoreQuiz } from "@/lib/views/learner";

export interface QuizState {
  error: string | null;
  missing: string[];
}

export async function submitQuizAction(_prev: QuizState, form: FormData): Promise<QuizState> {
  const access = await actionAccess(form);
  if (!access.ok) return { error: ACCESS_WORDS[access.error], missing: [] };
  if (!access.member) return { error: ACCESS_WORDS.no_session, missing: [] };
  const read = readAnswers(form);
  if ("missing" in read) {
    const numbers = read.missing.map((id) => QUIZ.findIndex((q) => q.id === id) + 1);
    return { error: `Answer every question before you submit (missing: ${numbers.join(", ")}).`, missing: read.missing };
  }
  const { correct, total } = scoreQuiz(read.answers);
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
    return { error: "Your answers could not be saved just now. Please submit again in a moment.", missing: [] };
  }
  redirect(withSession(`/activity/${view.id}?done=1`, token));
}
