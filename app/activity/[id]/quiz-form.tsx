"use client";
/** The quiz: a plain form (it works before hydration) with a pending state and inline errors. */
import { useActionState } from "react";
import { SubmitButton } from "@/app/_lib/submit-button";
import { submitQuizAction, type QuizState } from "./actions";

interface QuizQuestionView {
  id: string;
  prompt: string;
  choices: { id: string; text: string }[];
}

export function QuizForm({ link, token, questions }: { link: string; token: string; questions: QuizQuestionView[] }) {
  const [state, action] = useActionState(submitQuizAction, { error: null, missing: [] } satisfies QuizState);
  return (
    <form action={action} className="quiz" noValidate>
      <input type="hidden" name="s" value={token} />
      <input type="hidden" name="link" value={link} />
      <ol>
        {questions.map((q) => (
          <li key={q.id}>
            <fieldset aria-invalid={state.missing.includes(q.id) || undefined}>
              <legend>{q.prompt}</legend>
              {q.choices.map((c) => (
                <label key={c.id} className="choice">
                  {/* A refused submit hands the choices back: React resets the form after an action, to these. */}
                  <input type="radio" name={q.id} value={c.id} required defaultChecked={state.answers?.[q.id] === c.id} /> {c.text}
                </label>
              ))}
            </fieldset>
          </li>
        ))}
      </ol>
      <p className="status-line bad" role="alert">{state.error ?? "\u00a0"}</p>
      <SubmitButton label="Submit answers" busy="Submitting…" />
    </form>
  );
}
