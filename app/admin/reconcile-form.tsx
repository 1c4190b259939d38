"use client";
/** Reconcile now: reads back every line item Gradesync sent to (the weekly job), and says what it found. */
import { useActionState } from "react";
import { SubmitButton } from "@/app/_lib/submit-button";
import { reconcileAction, type OperatorState } from "./operator-actions";

const initial: OperatorState = { ok: null, message: null };

export function ReconcileForm() {
  const [state, action] = useActionState(reconcileAction, initial);
  return (
    <form action={action} className="stack reconcile">
      <div className="action-row">
        <SubmitButton label="Reconcile now" busy="Reading the gradebooks back…" />
      </div>
      {state.message ? (
        <p className={`status-line ${state.ok ? "ok" : "bad"}`} role={state.ok ? "status" : "alert"} data-reconcile-result>
          {state.message}
        </p>
      ) : null}
    </form>
  );
}
