import type { Metadata } from "next";
import Link from "next/link";
import { Badge, formatScore, Time } from "@/app/_lib/format";
import { param, requireLinkAccess, type SearchParams } from "@/app/_lib/page-session";
import { getDb } from "@/lib/db/client";
import { keepAttemptOf, type KeepAttempt } from "@/lib/grades/retakes";
import { withSession } from "@/lib/session/session";
import { learnerResult, quizFor, type LearnerResult } from "@/lib/views/learner";
import { explain } from "@/lib/views/reasons";
import { QuizForm } from "./quiz-form";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Activity" };

export default async function LearnerPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: SearchParams }) {
  const { id } = await params;
  const { token, view, member, session } = await requireLinkAccess(id, searchParams);
  const query = await searchParams;
  const db = await getDb();
  const result = member ? await learnerResult(db, { resourceLinkRef: view.id, userId: member.userId }) : null;
  const keep = await keepAttemptOf(db, view.id);
  const retake = param(query, "retake") === "1";
  const quiz = quizFor(view);
  // The answers stay on the server: the form gets the questions and choices only.
  const questions = quiz.questions.map(({ id: qid, prompt, choices }) => ({ id: qid, prompt, choices }));

  return (
    <main>
      <header className="card">
        <h1>{view.title ?? "Activity"}</h1>
        <p className="muted">{view.course.title ?? view.course.contextId}</p>
      </header>
      <section className="card" aria-labelledby="welcome">
        <h2 id="welcome" className="visually-hidden">About this activity</h2>
        <p>
          Welcome{member?.name ? `, ${member.name}` : ""}. This is a short quiz on {quiz.topic}, {questions.length} questions. Your score is sent to your course gradebook.
        </p>
        {session.role === "teacher" ? <p className="muted">You opened this as a teacher: your own score is recorded, but most LMSs keep grades only for students.</p> : null}
      </section>
      {result ? <Result result={result} justSubmitted={param(query, "done") === "1"} refreshHref={withSession(`/activity/${view.id}`, token)} /> : null}
      {!result || retake ? (
        <section className="card" aria-labelledby="quiz">
          <h2 id="quiz">{result ? "Take the quiz again" : "Quiz"}</h2>
          {result ? <RetakeRule keep={keep} result={result} /> : null}
          <QuizForm link={view.id} token={token} questions={questions} />
        </section>
      ) : (
        <div className="retake">
          <RetakeRule keep={keep} result={result} />
          <p>
            <Link className="button secondary" href={withSession(`/activity/${view.id}?retake=1`, token)}>
              Take the quiz again
            </Link>
          </p>
        </div>
      )}
    </main>
  );
}

/** Which attempt counts, said before a retake (a retake must never lower a grade by surprise). */
function RetakeRule({ keep, result }: { keep: KeepAttempt; result: LearnerResult }) {
  if (result.fromGrader)
    return <p className="retake-rule" data-rule="grader">Your grade comes from the grader: a quiz attempt here does not change it.</p>;
  return keep === "best" ? (
    <p className="retake-rule" data-rule="best">Your best attempt counts: a retake never lowers your grade.</p>
  ) : (
    <p className="retake-rule" data-rule="latest">Your latest attempt counts: a retake replaces your grade, even with a lower score.</p>
  );
}

/** After an attempt the ledger kept out: what it scored, and the grade that stands. */
function AttemptKept({ result }: { result: LearnerResult }) {
  const a = result.lastAttempt;
  if (!a || a.applied) return null;
  const grade = formatScore(result.scoreGiven, result.scoreMaximum);
  return (
    <p className="attempt-kept" data-note={a.note ?? ""}>
      This attempt scored {formatScore(a.scoreGiven, a.scoreMaximum)}; your grade stays {grade}
      {result.fromGrader ? ", from the grader." : "."}
    </p>
  );
}

function Result({ result, justSubmitted, refreshHref }: { result: LearnerResult; justSubmitted: boolean; refreshHref: string }) {
  const e = explain(result.state, result.reason);
  return (
    <section className="card result" aria-labelledby="result" data-state={result.state}>
      <h2 id="result">{justSubmitted ? "Submitted: your score" : "Your score"}</h2>
      {justSubmitted ? <AttemptKept result={result} /> : null}
      <p className="score" data-score={result.scoreGiven ?? ""}>{formatScore(result.scoreGiven, result.scoreMaximum)}</p>
      <dl className="facts">
        <dt>Recorded</dt>
        <dd><Time value={result.recordedAt} /></dd>
        <dt>In your LMS</dt>
        <dd data-reached={result.reachedLmsAt ? "yes" : "no"}>
          {result.reachedLmsAt ? (
            <>
              <Badge tone="ok">Sent</Badge> reached your gradebook at <Time value={result.reachedLmsAt} />
            </>
          ) : result.lms ? (
            <span data-teacher-set>
              <Badge tone="muted">Set by your teacher</Badge> Your teacher changed this grade in the LMS
              {result.lms.scoreGiven === null ? ", and it shows no grade there for now." : `: your gradebook shows ${formatScore(result.lms.scoreGiven, result.lms.scoreMaximum)}.`}
            </span>
          ) : result.state === "pending" ? (
            <>
              <Badge tone="warn">On its way</Badge> not yet sent; it usually reaches your gradebook within a minute or two.{" "}
              <Link href={refreshHref}>Check again</Link>
            </>
          ) : (
            <>
              <Badge tone={e.tone}>{e.label}</Badge> {result.state === "skipped" ? "Your LMS did not take this score; your teacher can see why." : "Sending is delayed; your teacher can see why. Your score is kept."}
            </>
          )}
        </dd>
      </dl>
    </section>
  );
}
