import type { Metadata } from "next";
import Link from "next/link";
import { Suspense } from "react";
import { requireAdmin } from "@/app/_lib/admin";
import { ThroughputChart } from "@/app/_lib/charts";
import { Badge, formatScore, Time } from "@/app/_lib/format";
import { param, type SearchParams } from "@/app/_lib/page-session";
import { Pager } from "@/app/_lib/pager";
import { getDb } from "@/lib/db/client";
import { ADMIN_STATES, adminList, adminStateSchema, recentRuns, searchQuerySchema, searchScores, throughput, type AdminState, type ScoreStory } from "@/lib/views/admin";
import { explain, KEY_WORDS, runOutcomeWords, type RowState } from "@/lib/views/reasons";
import { pageNumber } from "@/lib/views/rows";
import { AlertsNote } from "./alerts-note";
import { BackfillForm } from "./backfill-form";
import { signOutAction } from "./actions";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Operator dashboard" };

const STATE_WORDS: Record<AdminState, { label: string; tone: string }> = {
  needs_relaunch: { label: "Needs relaunch", tone: "bad" },
  failing: { label: "Failing", tone: "bad" },
  pending: { label: "Pending", tone: "warn" },
  ok: { label: "OK", tone: "ok" },
};

function href(q: { state?: string | null; page?: number; q?: string | null }): string {
  const u = new URLSearchParams();
  if (q.state) u.set("state", q.state);
  if (q.page && q.page > 1) u.set("page", String(q.page));
  if (q.q) u.set("q", q.q);
  const s = u.toString();
  return s ? `/admin?${s}` : "/admin";
}

export default async function AdminPage({ searchParams }: { searchParams: SearchParams }) {
  const access = await requireAdmin();
  const query = await searchParams;
  const stateParsed = adminStateSchema.safeParse(param(query, "state"));
  const state = stateParsed.success ? stateParsed.data : null;
  const page = pageNumber(param(query, "page"));
  const typed = param(query, "q") ?? "";
  const q = searchQuerySchema.safeParse(typed);
  const db = await getDb();
  const list = await adminList(db, { state, page });

  return (
    <main className="wide">
      <header className="page-head">
        <div>
          <h1>Gradesync operations</h1>
          <p className="muted">Every course link, most urgent first. Times in UTC.</p>
          <AlertsNote />
        </div>
        {access === "signed_in" ? (
          <form action={signOutAction}>
            <button type="submit" className="secondary">Sign out</button>
          </form>
        ) : (
          <p className="muted small">Open on localhost (no ADMIN_TOKEN set)</p>
        )}
      </header>

      <section className="card" aria-labelledby="search-h">
        <h2 id="search-h">Find a score</h2>
        <form method="get" action="/admin" className="search" role="search">
          <label htmlFor="q">User id or delivery id</label>
          <input id="q" name="q" defaultValue={q.success ? q.data : ""} maxLength={1024} />
          <button type="submit">Search</button>
        </form>
        {q.success ? (
          <Suspense key={q.data} fallback={<div className="skeleton block" aria-busy="true" />}>
            <Search query={q.data} />
          </Suspense>
        ) : typed.trim() ? (
          <p className="empty" role="status">
            Nothing searched: an id {q.error.issues[0]?.message ?? "is not valid here"}.
          </p>
        ) : null}
      </section>

      <section className="card" aria-labelledby="list-h">
        <h2 id="list-h">Courses</h2>
        <nav className="filters" aria-label="Filter by state">
          <Link href={href({})} aria-current={state === null ? "page" : undefined}>
            All ({Object.values(list.byState).reduce((a, b) => a + b, 0)})
          </Link>
          {ADMIN_STATES.map((s) => (
            <Link key={s} href={href({ state: s })} aria-current={state === s ? "page" : undefined}>
              {STATE_WORDS[s].label} ({list.byState[s]})
            </Link>
          ))}
        </nav>
        {list.entries.length === 0 ? (
          <p className="empty">{state ? "No course is in this state." : "No course has launched Gradesync yet."}</p>
        ) : (
          <div className="table-wrap">
            <table className="contexts">
              <thead>
                <tr>
                  <th scope="col">State</th>
                  <th scope="col">Course · link</th>
                  <th scope="col">Key</th>
                  <th scope="col">Column</th>
                  <th scope="col">Scores</th>
                  <th scope="col">Oldest pending</th>
                  <th scope="col">Roster</th>
                  <th scope="col">Last run</th>
                </tr>
              </thead>
              <tbody>
                {list.entries.map((e) => (
                  <tr key={e.id} data-id={e.id} data-state={e.state}>
                    <td><Badge tone={STATE_WORDS[e.state].tone}>{STATE_WORDS[e.state].label}</Badge></td>
                    <th scope="row">
                      {e.title ?? e.resourceLinkId}
                      <div className="muted small mono">{e.platform.platformId} / {e.course.contextId} / {e.resourceLinkId}</div>
                    </th>
                    <td>
                      <Badge tone={KEY_WORDS[e.key.state].tone}>{KEY_WORDS[e.key.state].label}</Badge>
                      <div className="muted small"><Time value={e.key.lastLaunchAt} empty="never launched" /></div>
                    </td>
                    <td>{e.lineItem.state}</td>
                    <td className="nowrap">
                      {e.counts.pending} pending · {e.counts.sent} sent · {e.counts.skipped} skipped · {e.counts.failed} failed
                    </td>
                    <td><Time value={e.counts.oldestPendingAt} /></td>
                    <td>{e.roster.refreshedAt ? <>{e.roster.activeLearners} active · <Time value={e.roster.refreshedAt} /></> : <span className="muted">not refreshed</span>}</td>
                    <td>{e.lastRun ? <><Badge tone={runOutcomeWords(e.lastRun.outcome).tone}>{e.lastRun.outcome}</Badge> <Time value={e.lastRun.startedAt} /></> : <span className="muted">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager page={list.page} pages={list.pages} label="Course pages" href={(p) => href({ state, page: p })} />
      </section>

      <div className="grid two">
        <section className="card" aria-labelledby="runs-h">
          <h2 id="runs-h">Recent runs</h2>
          <Suspense fallback={<div className="skeleton block" aria-busy="true" />}>
            <Runs />
          </Suspense>
        </section>
        <section className="card" aria-labelledby="tp-h">
          <h2 id="tp-h">Throughput, last 14 days</h2>
          <Suspense fallback={<div className="skeleton chart-skeleton" aria-busy="true" />}>
            <Throughput />
          </Suspense>
        </section>
      </div>

      <section className="card" aria-labelledby="bf-h">
        <h2 id="bf-h">Backfill</h2>
        <p className="muted">Re-send the current scores of a platform, course or link (for example after fixing a scoring bug). Start with a dry run.</p>
        <BackfillForm />
      </section>
    </main>
  );
}

async function Runs() {
  const runs = await recentRuns(await getDb(), 10);
  if (!runs.length) return <p className="empty">No runs yet.</p>;
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Started</th>
            <th scope="col">Outcome</th>
            <th scope="col">Counts</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id}>
              <td>{r.kind} <span className="muted small">({r.trigger})</span></td>
              <td><Time value={r.startedAt} /></td>
              <td><Badge tone={runOutcomeWords(r.outcome).tone}>{r.outcome}</Badge></td>
              <td className="small">{Object.entries(r.counts).map(([k, v]) => `${k} ${v}`).join(" · ") || "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

async function Throughput() {
  return <ThroughputChart days={await throughput(await getDb(), { days: 14 })} />;
}

async function Search({ query }: { query: string }) {
  const result = await searchScores(await getDb(), query);
  if (result.matched === "none") return <p className="empty" role="status">No delivery or user with the id “{query}”.</p>;
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
  const e = explain(r.state as RowState, r.reason);
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
