"use client";
import { useActionState } from "react";
import { useFormStatus } from "react-dom";
import { signInAction } from "./actions";

function Submit() {
  const { pending } = useFormStatus();
  return (
    <button type="submit" disabled={pending}>
      {pending ? "Signing in…" : "Sign in"}
    </button>
  );
}

export function SignInForm() {
  const [state, action] = useActionState(signInAction, { error: null });
  return (
    <form action={action} className="stack">
      <label htmlFor="token">Admin token</label>
      <input id="token" name="token" type="password" autoComplete="current-password" required />
      <p className="status-line bad" role="alert">{state.error ?? "\u00a0"}</p>
      <Submit />
    </form>
  );
}
