/** The one-line answer to "is my gradebook up to date?", most blocking cause first. */
import { Time } from "@/app/_lib/format";
import type { LinkState } from "@/lib/links/state";

export function Verdict({ view }: { view: LinkState }) {
  const c = view.counts;
  const waiting = `${c.pending} waiting ${c.pending === 1 ? "grade is" : "grades are"}`;
  if (view.key.state === "needs_relaunch")
    return <p className="verdict bad">Not in sync: your LMS stopped accepting our connection. Open this assignment once from your course; {waiting} sent after that.</p>;
  // Without a serviceKey no push can send anything: "press Sync now" would be a false promise.
  if (view.key.state === "missing")
    return (
      <p className="verdict bad">
        Not in sync: this assignment was opened without access to your gradebook, so no grade can be sent. Make it a graded assignment in your LMS, then open it once from your course
        {c.pending ? `; ${waiting} sent after that` : ""}.
      </p>
    );
  if (view.lineItem.state === "missing")
    return <p className="verdict bad">Not in sync: the gradebook column is gone. Restore it or re-open the assignment from your course.</p>;
  if (view.paused) {
    const who = view.platform.paused ? "your school's administrator paused sending to this LMS" : "you paused sending";
    return <p className="verdict warn">Paused: {who}. {c.pending ? `${c.pending} ${c.pending === 1 ? "grade waits" : "grades wait"} here and ${c.pending === 1 ? "goes" : "go"} to your gradebook on resuming.` : "Scores are kept here and sent on resuming."}</p>;
  }
  if (c.failed > 0) return <p className="verdict bad">{c.failed} {c.failed === 1 ? "grade" : "grades"} could not be sent. Press Retry failed; the table below says why.</p>;
  if (c.pending > 0)
    return (
      <p className="verdict warn">
        {c.pending} {c.pending === 1 ? "grade is" : "grades are"} waiting to be sent{c.oldestPendingAt ? <> (the oldest since <Time value={c.oldestPendingAt} />)</> : null}. They go out with the next sync, or press Sync now.
      </p>
    );
  if (c.sent + c.skipped + c.overridden === 0) return <p className="verdict muted">No scores yet. When students finish the activity, their scores appear here and go to your gradebook.</p>;
  const except = [
    c.skipped ? `${c.skipped} your LMS would not take` : "",
    c.overridden ? `${c.overridden} changed by hand in your gradebook, which Gradesync keeps` : "",
  ].filter(Boolean);
  return <p className="verdict ok">Yes: every score Gradesync holds is in your gradebook{except.length ? `, except ${except.join(" and ")} (see below)` : ""}.</p>;
}
