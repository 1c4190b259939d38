"use client";
/**
 * A platform's row controls on /admin: Pause/Resume, and its ceiling of requests in flight (a number,
 * or PLATFORM_CONCURRENCY). Each answers in words beside it; the table re-renders with the answer.
 */
import { useActionState } from "react";
import { SubmitButton } from "@/app/_lib/submit-button";
import { platformCeilingAction, platformPauseAction, type OperatorState } from "./operator-actions";

const initial: OperatorState = { ok: null, message: null };

function Answer({ state }: { state: OperatorState }) {
  if (!state.message) return null;
  return (
    <p className={`status-line small ${state.ok ? "ok" : "bad"}`} role={state.ok ? "status" : "alert"}>
      {state.message}
    </p>
  );
}

export function PauseControl({ platformId, paused }: { platformId: string; paused: boolean }) {
  const [state, action] = useActionState(platformPauseAction, initial);
  return (
    <form action={action} className="inline-form" data-pause-form={platformId}>
      <input type="hidden" name="platformId" value={platformId} />
      {paused ? (
        <SubmitButton name="intent" value="resume" label="Resume" busy="Resuming…" />
      ) : (
        <SubmitButton name="intent" value="pause" label="Pause" busy="Pausing…" secondary />
      )}
      <Answer state={state} />
    </form>
  );
}

export function CeilingControl({ platformId, ceiling, own, max }: { platformId: string; ceiling: number; own: boolean; max: number }) {
  const [state, action] = useActionState(platformCeilingAction, initial);
  return (
    <form action={action} className="inline-form" data-ceiling-form={platformId}>
      <input type="hidden" name="platformId" value={platformId} />
      <label>
        <span className="visually-hidden">Ceiling for {platformId}</span>
        <input name="concurrency" type="number" min={1} max={max} step={1} defaultValue={own ? ceiling : ""} placeholder={String(ceiling)} className="narrow" key={`${ceiling}:${own}`} />
      </label>
      <SubmitButton name="intent" value="set" label="Set" busy="Setting…" secondary />
      {own ? <SubmitButton name="intent" value="default" label="Use default" busy="Setting…" secondary /> : null}
      <Answer state={state} />
    </form>
  );
}
