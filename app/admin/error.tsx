"use client";
/** What an operator sees when the dashboard cannot be read: no stack trace, where to look. */
export default function AdminError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main>
      <div className="card" role="alert">
        <h1>The dashboard could not be read</h1>
        <p>
          Usually the database is unreachable: check <code>/api/health</code> and the server log
          {error.digest ? (
            <>
              {" "}
              (look for digest <code>{error.digest}</code>)
            </>
          ) : null}
          . Pushes already running are not affected by this page.
        </p>
        <button type="button" onClick={() => reset()}>Try again</button>
      </div>
    </main>
  );
}
