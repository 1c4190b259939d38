/** The search box's answer: each matching score's whole story (revisions, attempts with the LMS's answers, outcome). */
import { Badge, formatScore, Time } from "@/app/_lib/format";
import { getDb } from "@/lib/db/client";
import { searchScores, type ScoreStory } from "@/lib/views/admin";
import { explain, type RowState } from "@/lib/views/reasons";

export async function Search({ query }: { query: string }) {
  const result = await searchScores(await getDb(), query);
  if (result.matched === "none") return <p className="empty" role="status">No delivery id, user id, name or e-mail matches “{query}”.</p>;
  return (
    <div className="stories" role="region" aria-label="Search results">
      {result.delivery ? (
        <p>
          Delivery <code>{result.delivery.id}</code> received <Time value={result.delivery.receivedAt} />, {result.delivery.accepted} accepted.
        </p>
      ) : result.matched === "delivery" ? (
        <p>
          Delivery <code>{query}</code> (older than the 30 days its receipt is kept; its scores remain):
        </p>
      ) : result.matched === "person" ? (
        <>
          <p>People whose name or e-mail contains “{query}”:</p>
          <ul className="people">
            {result.people.map((p) => (
              <li key={`${p.platformId}/${p.userId}`} data-person={p.userId}>
                {p.name ?? <span className="muted">no name</span>}
                {p.email ? <> · {p.email}</> : null} <span className="muted small mono">{p.platformId} / {p.userId}</span>
              </li>
            ))}
          </ul>
          {result.stories.length === 0 ? <p className="empty">None of them has a score recorded yet.</p> : <p>Their scores:</p>}
        </>
      ) : (
        <p>
          Scores of user <code>{query}</code>:
        </p>
      )}
      {result.stories.map((s) => (
        <Story key={s.row.id} story={s} />
      ))}
      {result.truncated ? <p className="muted">Only the first {result.stories.length} are shown.</p> : null}
    </div>
  );
}

function Story({ story }: { story: ScoreStory }) {
  const r = story.row;
  const e = explain(r.state as RowState, r.reason, null, "admin");
  return (
    <article className="story" data-row={r.id}>
      <h3>
        {r.userName ?? r.userId} · {r.title ?? r.resourceLinkId}
      </h3>
      <p className="muted small mono">
        {r.platformId} / {r.contextId} / {r.resourceLinkId} · user {r.userId} · row {r.id}
      </p>
      <h4>Revisions recorded</h4>
      <ol className="timeline">
        {story.revisions.map((v) => (
          <li key={v.id}>
            <Time value={v.recordedAt} /> — {v.source}
            {v.deliveryId ? <> (delivery <code>{v.deliveryId}</code>)</> : null}: {formatScore(v.scoreGiven, v.scoreMaximum)} {v.gradingProgress}
            {v.applied ? <> → revision {v.revision}</> : <span className="muted"> — not applied ({v.note ?? "older"})</span>}
          </li>
        ))}
      </ol>
      <h4>Attempts and LMS answers</h4>
      {story.attempts.length === 0 ? (
        <p className="muted">None yet.</p>
      ) : (
        <ol className="timeline">
          {story.attempts.map((a) => (
            <li key={a.id}>
              <Time value={a.at} /> — revision {a.revision}: {a.outcome.replaceAll("_", " ")}
              {a.httpStatus ? ` (HTTP ${a.httpStatus})` : ""}
              {a.errorCode ? <span className="muted"> — {a.errorCode}</span> : null}
              {a.latencyMs !== null ? <span className="muted small"> {a.latencyMs} ms</span> : null}
            </li>
          ))}
        </ol>
      )}
      <h4>Outcome</h4>
      <p data-outcome={r.state}>
        <Badge tone={e.tone}>{e.label}</Badge> revision {r.revision}
        {r.sentRevision ? `, sent revision ${r.sentRevision}` : ", nothing sent yet"}
        {r.lastSentAt ? <> at <Time value={r.lastSentAt} /></> : null}. {e.words}
      </p>
    </article>
  );
}
