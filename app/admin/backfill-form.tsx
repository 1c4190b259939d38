"use client";
/**
 * Backfill in two steps: a dry run that counts and lists what would be sent — and how many of the
 * selected students have a grade a person set in the LMS (left alone, unless `overwrite` is ticked)
 * — then a confirmed run.
 */
import { useActionState } from "react";
import { formatScore } from "@/app/_lib/format";
import { SubmitButton } from "@/app/_lib/submit-button";
import { backfillAction, type BackfillState } from "./actions";
import { selectorKey } from "./selector-key";

const initial: BackfillState = { step: "edit", error: null, selector: { platformId: "", contextId: "", resourceLinkId: "", since: "", overwrite: "" } };

export function BackfillForm() {
  const [state, action] = useActionState(backfillAction, initial);
  const s = state.selector;
  const overridden = state.overridden ?? 0;
  const overwrite = s.overwrite === "yes";
  // The key remounts the inputs on every answer, so they show the selection that answer is about;
  // `previewed` names it, and the server refuses a run whose fields no longer match it.
  return (
    <form action={action} className="stack backfill" key={`${state.step}:${selectorKey(s)}`}>
      {state.step === "preview" ? <input type="hidden" name="previewed" value={selectorKey(s)} /> : null}
      <div className="grid fields">
        <label>
          <span>Platform id</span> <input name="platformId" defaultValue={s.platformId} required />
        </label>
        <label>
          <span>
            Context id <span className="muted">(optional)</span>
          </span>
          <input name="contextId" defaultValue={s.contextId} />
        </label>
        <label>
          <span>
            Resource link id <span className="muted">(optional)</span>
          </span>
          <input name="resourceLinkId" defaultValue={s.resourceLinkId} />
        </label>
        <label>
          <span>
            Recorded since <span className="muted">(optional)</span>
          </span>
          <input name="since" defaultValue={s.since} placeholder="2026-11-01" />
        </label>
      </div>
      <label className="confirm">
        <input type="checkbox" name="overwrite" value="yes" defaultChecked={s.overwrite === "yes"} /> Overwrite grades teachers set by hand in the LMS
        <span className="muted"> (without it, those students are left alone)</span>
      </label>
      {state.error ? <p className="status-line bad" role="alert">{state.error}</p> : null}
      {state.step === "preview" ? (
        <div className="preview" role="region" aria-label="Dry run">
          <p>
            <span className="badge muted">Dry run</span> <strong data-would-send={state.wouldSend}>{state.wouldSend ?? 0}</strong>{" "}
            {state.wouldSend === 1 ? "score" : "scores"} would be sent again; nothing was sent.
          </p>
          <p className="warning" role="note" data-overridden={overridden}>
            {overridden === 0
              ? "No selected student has a grade set by hand in the LMS."
              : overwrite
                ? `${overridden} of them ${overridden === 1 ? "has a grade" : "have grades"} a teacher set by hand in the LMS: this backfill would overwrite ${overridden === 1 ? "it" : "them"}.`
                : `${overridden} selected ${overridden === 1 ? "student has a grade" : "students have grades"} a teacher set by hand in the LMS: left alone (tick “Overwrite” to replace them).`}{" "}
            Backfill only what the scoring fix changed.
          </p>
          {state.rows && state.rows.length > 0 ? (
            <div className="table-wrap">
              <table>
                <caption className="muted">
                  {state.rows.length < (state.wouldSend ?? 0) ? `First ${state.rows.length} of ${state.wouldSend}` : "All of them"}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Context</th>
                    <th scope="col">Link</th>
                    <th scope="col">User</th>
                    <th scope="col">Score</th>
                    <th scope="col">State now</th>
                  </tr>
                </thead>
                <tbody>
                  {state.rows.map((r) => (
                    <tr key={`${r.contextId}/${r.resourceLinkId}/${r.userId}`}>
                      <td>{r.contextId}</td>
                      <td>{r.resourceLinkId}</td>
                      <td className="mono">{r.userId}</td>
                      <td>{formatScore(r.scoreGiven, r.scoreMaximum)}</td>
                      <td>{r.state}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          {(state.wouldSend ?? 0) > 0 ? (
            <label className="confirm">
              <input type="checkbox" name="confirm" value="yes" />{" "}
              {overwrite && overridden > 0
                ? `I understand this replaces ${overridden} ${overridden === 1 ? "grade" : "grades"} teachers set by hand.`
                : `I understand these ${state.wouldSend} ${state.wouldSend === 1 ? "score is" : "scores are"} sent again as new revisions.`}
            </label>
          ) : null}
        </div>
      ) : null}
      {state.step === "done" ? <p className="status-line ok" role="status">{state.message}</p> : null}
      <div className="action-row">
        <SubmitButton name="intent" value="preview" label="Dry run" busy="Counting…" secondary={state.step === "preview"} />
        {state.step === "preview" && (state.wouldSend ?? 0) > 0 ? <SubmitButton name="intent" value="run" label="Run backfill" busy="Running…" /> : null}
      </div>
    </form>
  );
}
