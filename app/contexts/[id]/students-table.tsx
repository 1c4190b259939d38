/**
 * A page of students: score, submission, state and what happened. The teacher reads it in plain
 * words (with what to do); an operator (/admin's link view) reads the LMS's answers with their codes.
 */
import type { ReactNode } from "react";
import { Badge, formatScore, Time } from "@/app/_lib/format";
import { attemptWords, type Audience } from "@/lib/views/reasons";
import type { StudentRow } from "@/lib/views/teacher";

export function StudentsTable({ rows, audience, pager }: { rows: StudentRow[]; audience: Audience; pager: ReactNode }) {
  const teacher = audience === "teacher";
  return (
    <>
      <div className="table-wrap">
        <table className="students stacked">
          <thead>
            <tr>
              <th scope="col">Student</th>
              <th scope="col">Score</th>
              <th scope="col">Submitted</th>
              <th scope="col">State</th>
              <th scope="col">Last attempt</th>
              <th scope="col">What happened</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.userId} data-user={r.userId} data-state={r.state}>
                <th scope="row">
                  {r.name ?? <span className="muted">Not known yet</span>}
                  <div className="muted small mono">{r.userId}</div>
                </th>
                <td data-label="Score">{formatScore(r.scoreGiven, r.scoreMaximum)}</td>
                <td data-label="Submitted"><Time value={r.submittedAt} /></td>
                <td data-label="State">
                  <Badge tone={r.explanation.tone}>{r.explanation.label}</Badge>
                </td>
                <td data-label="Last attempt">
                  {r.lastAttempt ? (
                    <>
                      <Time value={r.lastAttempt.at} />
                      <div className="muted small">{attemptWords(r.lastAttempt, audience)}</div>
                    </>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
                <td data-label="What happened" className="what">
                  {r.explanation.words}
                  {teacher && r.explanation.action ? (
                    <div className="todo">{r.state === "overridden" ? <ToChanges action={r.explanation.action} /> : r.explanation.action}</div>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {pager}
    </>
  );
}

/** "… under Changed in your gradebook …" as a link to that section of the page. */
function ToChanges({ action }: { action: string }) {
  const name = "Changed in your gradebook";
  const at = action.indexOf(name);
  if (at < 0) return action;
  return (
    <>
      {action.slice(0, at)}
      <a href="#changes">{name}</a>
      {action.slice(at + name.length)}
    </>
  );
}
