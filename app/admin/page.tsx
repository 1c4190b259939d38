import type { Metadata } from "next";
import Link from "next/link";
import { Suspense } from "react";
import { requireAdmin } from "@/app/_lib/admin";
import { ThroughputChart } from "@/app/_lib/charts";
import { Badge, Time } from "@/app/_lib/format";
import { param, type SearchParams } from "@/app/_lib/page-session";
import { Pager } from "@/app/_lib/pager";
import { getDb } from "@/lib/db/client";
import type { LinkState } from "@/lib/links/state";
import { ADMIN_STATES, adminList, adminStateSchema, searchQuerySchema, throughput, type AdminState } from "@/lib/views/admin";
import { KEY_WORDS, LINE_ITEM_WORDS, runOutcomeWords } from "@/lib/views/reasons";
import { pageNumber } from "@/lib/views/rows";
import { AlertsNote } from "./alerts-note";
import { BackfillForm } from "./backfill-form";
import { signOutAction } from "./actions";
import { PlatformsTable } from "./platforms-table";
import { ReconcileForm } from "./reconcile-form";
import { RecentRuns } from "./runs-table";
import { Search } from "./search-results";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Operator dashboard" };

const STATE_WORDS: Record<AdminState, { label: string; tone: string }> = {
  needs_relaunch: { label: "Needs relaunch", tone: "bad" },
  failing: { label: "Failing", tone: "bad" },
  pending: { label: "Pending", tone: "warn" },
  ok: { label: "OK", tone: "ok" },
};

function href(q: { state?: string | null; changed?: boolean; page?: number; q?: string | null }): string {
  const u = new URLSearchParams();
  if (q.state) u.set("state", q.state);
  if (q.changed) u.set("changed", "1");
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
  const changed = param(query, "changed") === "1";
  const db = await getDb();
  const list = await adminList(db, { state, changed, page });

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
          <label htmlFor="q">Name, e-mail, user id or delivery id</label>
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
          <Link href={href({ changed })} aria-current={state === null ? "page" : undefined}>
            All ({Object.values(list.byState).reduce((a, b) => a + b, 0)})
          </Link>
          {ADMIN_STATES.map((s) => (
            <Link key={s} href={href({ state: s, changed })} aria-current={state === s ? "page" : undefined}>
              {STATE_WORDS[s].label} ({list.byState[s]})
            </Link>
          ))}
        </nav>
        <nav className="filters" aria-label="Filter by changes in the LMS">
          <Link href={href({ state })} aria-current={!changed ? "page" : undefined}>
            Any
          </Link>
          <Link href={href({ state, changed: true })} aria-current={changed ? "page" : undefined} data-filter="changed">
            Set by hand or drift ({list.changed})
          </Link>
        </nav>
        {list.entries.length === 0 ? (
          <p className="empty">
            {changed ? "No course has grades set by hand in the LMS or drift" + (state ? " in this state." : ".") : state ? "No course is in this state." : "No course has launched Gradesync yet."}
          </p>
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
                  <th scope="col">In the LMS</th>
                  <th scope="col">Oldest pending</th>
                  <th scope="col">Roster</th>
                  <th scope="col">Last run</th>
                </tr>
              </thead>
              <tbody>
                {list.entries.map((e) => (
                  <tr key={e.id} data-id={e.id} data-state={e.state} data-overridden={e.counts.overridden}>
                    <td>
                      <Badge tone={STATE_WORDS[e.state].tone}>{STATE_WORDS[e.state].label}</Badge>
                      {e.paused ? <div><Badge tone="warn">Paused</Badge></div> : null}
                    </td>
                    <th scope="row">
                      <Link href={`/admin/links/${e.id}`}>{e.title ?? e.resourceLinkId}</Link>
                      <div className="muted small mono">{e.platform.platformId} / {e.course.contextId} / {e.resourceLinkId}</div>
                    </th>
                    <td>
                      <Badge tone={KEY_WORDS[e.key.state].tone}>{KEY_WORDS[e.key.state].label}</Badge>
                      <div className="muted small"><Time value={e.key.lastLaunchAt} empty="never launched" /></div>
                    </td>
                    <td><Badge tone={LINE_ITEM_WORDS[e.lineItem.state].tone}>{LINE_ITEM_WORDS[e.lineItem.state].label}</Badge></td>
                    <td className="nowrap">
                      {e.counts.pending} pending · {e.counts.sent} sent · {e.counts.skipped} skipped · {e.counts.failed} failed
                    </td>
                    <td><InLms link={e} /></td>
                    <td><Time value={e.counts.oldestPendingAt} /></td>
                    <td>{e.roster.refreshedAt ? <>{e.roster.activeLearners} active · <Time value={e.roster.refreshedAt} /></> : <span className="muted">not refreshed</span>}</td>
                    <td>{e.lastRun ? <><Badge tone={runOutcomeWords(e.lastRun.outcome).tone}>{e.lastRun.outcome}</Badge> <Time value={e.lastRun.startedAt} /></> : <span className="muted">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager page={list.page} pages={list.pages} label="Course pages" href={(p) => href({ state, changed, page: p })} />
      </section>

      <section className="card" aria-labelledby="platforms-h">
        <h2 id="platforms-h">Platforms</h2>
        <p className="muted">
          Requests in flight per LMS: the pacing window starts at the ceiling, halves when the LMS throttles and widens again on calm
          answers. Pausing a platform stops every call to it; scores are still recorded and sent when it is resumed.
        </p>
        <Suspense fallback={<div className="skeleton block" aria-busy="true" />}>
          <PlatformsTable />
        </Suspense>
      </section>

      <section className="card" aria-labelledby="rc-h">
        <h2 id="rc-h">Reconcile</h2>
        <p className="muted">
          Read back every gradebook column Gradesync sent to and compare it with what was sent (the weekly job): grades changed by hand
          are kept and counted, grades the LMS lost are sent again once.
        </p>
        <ReconcileForm />
      </section>

      <div className="grid two">
        <section className="card" aria-labelledby="runs-h">
          <h2 id="runs-h">Recent runs</h2>
          <Suspense fallback={<div className="skeleton block" aria-busy="true" />}>
            <RecentRuns />
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

/** Rows a person set in the LMS, and the last reconcile's drift (null until one ran). */
function InLms({ link }: { link: LinkState }) {
  const d = link.drift;
  return (
    <div data-drift={d.checkedAt ? `${d.differs}/${d.missing}` : "unchecked"}>
      {link.counts.overridden ? <Badge tone="warn">{link.counts.overridden} set by hand</Badge> : <span className="muted">none set by hand</span>}
      <div className="muted small">
        {d.checkedAt ? (
          <>
            {d.inSync} in sync · {d.differs} differ · {d.missing} missing · <Time value={d.checkedAt} />
          </>
        ) : (
          "not reconciled yet"
        )}
      </div>
    </div>
  );
}

async function Throughput() {
  return <ThroughputChart days={await throughput(await getDb(), { days: 14 })} />;
}

