"use client";
/**
 * "Changed in your gradebook": each student whose LMS grade a person set, both values, and "Send
 * Gradesync's score" for one or all. Keeping the gradebook's grade is the default and needs nothing.
 * The confirmation is a <details> (it works before hydration) that names exactly what is replaced;
 * the form posts those rows and values, and only rows still showing them are overwritten.
 */
import { useActionState } from "react";
import { Time } from "@/app/_lib/format";
import { SubmitButton } from "@/app/_lib/submit-button";
import { overwriteAction, type GradebookActionState } from "./gradebook-actions";

export interface ChangeRow {
  userId: string;
  who: string;
  /** The LMS's grade and Gradesync's, as the page writes scores. */
  lms: string;
  ours: string;
  seenAt: Date | null;
  newer: boolean;
  /** The row as posted back: {"u","s","m"}. */
  shown: string;
}

const initial: GradebookActionState = { tone: "muted", message: "" };

export function GradebookChanges({ link, token, rows, total }: { link: string; token: string; rows: ChangeRow[]; total: number }) {
  const [state, action] = useActionState(overwriteAction, initial);
  const hidden = (shown: string[]) => (
    <>
      <input type="hidden" name="s" value={token} />
      <input type="hidden" name="link" value={link} />
      {shown.map((v) => (
        <input key={v} type="hidden" name="shown" value={v} />
      ))}
    </>
  );
  return (
    <>
      <p className={`status-line ${state.tone}`} aria-live="polite">{state.message || "\u00a0"}</p>
      {rows.length === 0 ? null : (
        <>
          <div className="table-wrap">
            <table className="changes stacked">
              <thead>
                <tr>
                  <th scope="col">Student</th>
                  <th scope="col">In your gradebook</th>
                  <th scope="col">Gradesync&apos;s score</th>
                  <th scope="col">Seen</th>
                  <th scope="col"><span className="visually-hidden">Action</span></th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.userId} data-user={r.userId}>
                    <th scope="row">{r.who}</th>
                    <td data-label="In your gradebook">{r.lms}</td>
                    <td data-label="Gradesync's score">
                      {r.ours}
                      {r.newer ? <div className="muted small">newer, waiting</div> : null}
                    </td>
                    <td data-label="Seen"><Time value={r.seenAt} /></td>
                    <td>
                      <details className="confirm-send">
                        <summary>Send Gradesync&apos;s score</summary>
                        <form action={action}>
                          {hidden([r.shown])}
                          <p>
                            This replaces {r.who}&apos;s {r.lms} in your gradebook with {r.ours}.
                          </p>
                          <SubmitButton label="Yes, replace it" busy="Sending…" />
                        </form>
                      </details>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {rows.length > 1 ? (
            <details className="confirm-send">
              <summary>Send Gradesync&apos;s score for all {rows.length}</summary>
              <form action={action}>
                {hidden(rows.map((r) => r.shown))}
                <p>This replaces these grades in your gradebook:</p>
                <ul className="replaced">
                  {rows.map((r) => (
                    <li key={r.userId}>
                      {r.who}: {r.lms} → {r.ours}
                    </li>
                  ))}
                </ul>
                {total > rows.length ? <p className="muted">The other {total - rows.length} are listed once these are done.</p> : null}
                <SubmitButton label={`Yes, replace all ${rows.length}`} busy="Sending…" />
              </form>
            </details>
          ) : null}
        </>
      )}
    </>
  );
}
