"use client";
/** *Sync now* and *Retry failed*: plain forms (they work before hydration), with a visible pending state. */
import { useActionState } from "react";
import { SubmitButton } from "@/app/_lib/submit-button";
import { retryFailedAction, syncNowAction, type SyncActionState } from "./actions";
import { latestAnswer } from "./answers";

const initial: SyncActionState = { tone: "muted", message: "", seq: 0 };

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
          <SubmitButton label="Sync now" busy="Syncing…" />
        </form>
        <form action={retryAction}>
          <input type="hidden" name="s" value={token} />
          <input type="hidden" name="link" value={link} />
          <SubmitButton label={`Retry failed${failed ? ` (${failed})` : ""}`} busy="Retrying…" secondary disabled={failed === 0} />
        </form>
      </div>
      <p className={`status-line ${latest.tone}`} role="status" aria-live="polite" data-seq={latest.seq}>
        {latest.message || "\u00a0"}
      </p>
    </div>
  );
}
