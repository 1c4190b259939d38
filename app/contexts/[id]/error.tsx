"use client";
/** What a teacher sees when the page cannot be shown: no stack trace, what to do next. */
export default function TeacherPageError({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="message">
      <div className="card" role="alert">
        <h1>We could not show your grade sync just now</h1>
        <p>Your students&apos; scores are safe and keep being sent in the background. Try again in a moment; if this keeps happening, open the assignment again from your course or tell your LMS administrator.</p>
        <button type="button" onClick={() => reset()}>Try again</button>
      </div>
    </main>
  );
}
