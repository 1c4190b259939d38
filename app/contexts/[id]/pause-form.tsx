"use client";
/** Pause or resume sending this assignment's grades: a plain form (works before hydration). */
import { useActionState } from "react";
import { SubmitButton } from "@/app/_lib/submit-button";
import { pauseAction, type GradebookActionState } from "./gradebook-actions";

export function PauseForm({ link, token, paused }: { link: string; token: string; paused: boolean }) {
  const [state, action] = useActionState(pauseAction, { tone: "muted", message: "" } satisfies GradebookActionState);
  return (
    <form action={action} className="pause-form">
      <input type="hidden" name="s" value={token} />
      <input type="hidden" name="link" value={link} />
      <input type="hidden" name="pause" value={paused ? "resume" : "pause"} />
      <SubmitButton label={paused ? "Resume sending" : "Pause sending"} busy={paused ? "Resuming…" : "Pausing…"} secondary />
      <p className={`status-line ${state.tone}`} aria-live="polite">{state.message || "\u00a0"}</p>
    </form>
  );
}
