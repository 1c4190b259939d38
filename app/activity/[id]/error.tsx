"use client";
/** What a student sees when the activity cannot be shown. */
export default function ActivityError({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="message">
      <div className="card" role="alert">
        <h1>This activity could not load</h1>
        <p>Try again in a moment, or open the activity again from your course. A score you saw confirmed here is kept.</p>
        <button type="button" onClick={() => reset()}>Try again</button>
      </div>
    </main>
  );
}
