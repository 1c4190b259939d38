"use client";
/** *Sync now* and *Retry failed*: plain forms (they work before hydration), with a visible pending state. */
import { useActionState } from "react";
import { useFormStatus } from "react-dom";
import { retryFailedAction, syncNowAction, type SyncActionState } from "./actions";
import { latestAnswer } from "./answers";

const initial: SyncActionState = { tone: "muted", message: "", seq: 0 };

function Submit({ label, busy, secondary, disabled }: { label: string; busy: string; secondary?: boolean; disabled?: boolean }) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" className={secondary ? "secondary" : undefined} disabled={pending || disabled} aria-disabled={pending || disabled}>
      <span className={pending ? "spinner" : "spinner idle"} aria-hidden="true" />
      {pending ? busy : label}
    </button>
  );
}

export function SyncButtons({ link, token, failed }: { link: string; token: string; failed: number }) {
  const [syncState, syncAction] = useActionState(syncNowAction, initial);
  const [retryState, retryAction] = useActionState(retryFailedAction, initial);
  const latest = latestAnswer(syncState, retryState);
  return (
    <div className="actions">
      <div className="action-row">
        <form action={syncAction}>
          <input type="hidden" name="s" value={token} />
          <input type="hidden" name="link" value={link} />
          <Submit label="Sync now" busy="Syncing…" />
        </form>
        <form action={retryAction}>
          <input type="hidden" name="s" value={token} />
          <input type="hidden" name="link" value={link} />
          <Submit label={`Retry failed${failed ? ` (${failed})` : ""}`} busy="Retrying…" secondary disabled={failed === 0} />
        </form>
      </div>
      <p className={`status-line ${latest.tone}`} role="status" aria-live="polite" data-seq={latest.seq}>
        {latest.message || "\u00a0"}
      </p>
    </div>
  );
}
