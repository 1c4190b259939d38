"use client";
/** Which quiz attempt counts when a student retakes: a plain form (works before hydration). */
import { useActionState } from "react";
import { SubmitButton } from "@/app/_lib/submit-button";
import type { KeepAttempt } from "@/lib/grades/retakes";
import { keepAttemptAction, type KeepAttemptState } from "./actions";

export function KeepAttemptForm({ link, token, keep }: { link: string; token: string; keep: KeepAttempt }) {
  const [state, action] = useActionState(keepAttemptAction, { tone: "muted", message: "" } satisfies KeepAttemptState);
  return (
    <form action={action} className="keep-attempt">
      <input type="hidden" name="s" value={token} />
      <input type="hidden" name="link" value={link} />
      <label>
        <span className="visually-hidden">Which attempt counts </span>
        <select name="keep" defaultValue={keep} key={keep}>
          <option value="best">Best attempt counts</option>
          <option value="latest">Latest attempt counts</option>
        </select>
      </label>{" "}
      <SubmitButton label="Save" busy="Saving…" secondary />
      <p className={`status-line ${state.tone}`} aria-live="polite">{state.message || "\u00a0"}</p>
    </form>
  );
}
