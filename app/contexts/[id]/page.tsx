import type { Metadata } from "next";
import { Suspense } from "react";
import { OutcomeChart } from "@/app/_lib/charts";
import { Badge, lmsGrade, onColumnScale, Time } from "@/app/_lib/format";
import { requireLinkAccess, param, type SearchParams } from "@/app/_lib/page-session";
import { Pager } from "@/app/_lib/pager";
import type { LinkState } from "@/lib/links/state";
import { getDb } from "@/lib/db/client";
import { keepAttemptOf } from "@/lib/grades/retakes";
import { dispatcher } from "@/lib/jobs/dispatch";
import { QUIZ_MAXIMUM } from "@/lib/views/learner";
import { KEY_WORDS, LINE_ITEM_WORDS, runOutcomeWords, runWords } from "@/lib/views/reasons";
import { pageNumber } from "@/lib/views/rows";
import { contextRuns, outcomeSeries, studentPage } from "@/lib/views/teacher";
import { gradebookChanges, reconcileWords } from "@/lib/views/gradebook-changes";
import { withSession } from "@/lib/session/session";
import { GradebookChanges } from "./gradebook-changes";
import { KeepAttemptForm } from "./keep-attempt";
import { PauseForm } from "./pause-form";
import { StudentsTable } from "./students-table";
import { SyncButtons } from "./sync-buttons";
import { Verdict } from "./verdict";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Grade sync" };

export default async function TeacherPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: SearchParams }) {
  const { id } = await params;
  // Every check happens before anything streams, so a refusal is a real 401/403. That is also why
  // there is no loading.tsx here: it would send a 200 shell before the check; the Suspense
  // skeletons below are the loading state.
  const { token, view } = await requireLinkAccess(id, searchParams, "teacher");
  const page = pageNumber(param(await searchParams, "page"));
  const key = KEY_WORDS[view.key.state];
  const item = LINE_ITEM_WORDS[view.lineItem.state];
  const c = view.counts;
  const total = c.pending + c.sent + c.skipped + c.failed + c.overridden;
  const keep = await keepAttemptOf(await getDb(), view.id);

  return (
    <main>
      <header className="card">
        <h1>{view.title ?? view.resourceLinkId}</h1>
        <p className="muted">
          {view.course.title ?? view.course.contextId}
          {view.course.label ? ` (${view.course.label})` : ""}
          {view.platform.name ? ` · ${view.platform.name}` : ""}
        </p>
      </header>

      <section className="card" aria-labelledby="summary">
        <h2 id="summary">Is your gradebook up to date?</h2>
        <Verdict view={view} />
        <ul className="counts" aria-label="Grades by state">
          <li><strong data-count="pending">{c.pending}</strong> waiting</li>
          <li><strong data-count="sent">{c.sent}</strong> in gradebook</li>
          <li><strong data-count="skipped">{c.skipped}</strong> not sent</li>
          <li><strong data-count="failed">{c.failed}</strong> failed</li>
          {c.overridden ? <li><strong data-count="overridden">{c.overridden}</strong> set by hand</li> : null}
        </ul>
        <SyncButtons link={view.id} token={token} failed={c.failed} />
      </section>

      <section className="card" aria-labelledby="changes">
        <h2 id="changes">Changed in your gradebook</h2>
        <Suspense fallback={<TableSkeleton rows={2} />}>
          <Changes view={view} token={token} />
        </Suspense>
      </section>

      <div className="grid two">
        <section className="card" aria-labelledby="conn">
          <h2 id="conn">Gradebook connection</h2>
          <p>
            <Badge tone={key.tone}>{key.label}</Badge> {key.help}
          </p>
          <dl className="facts">
            <dt>Last launch</dt>
            <dd><Time value={view.key.lastLaunchAt} empty="never" /></dd>
            <dt>Sending</dt>
            <dd data-paused={view.paused ? "true" : "false"}>
              <Sending view={view} />
              <PauseForm link={view.id} token={token} paused={view.pausedAt !== null} />
            </dd>
            <dt>Gradebook column</dt>
            <dd>
              <Badge tone={item.tone}>{item.label}</Badge> {item.help}
            </dd>
            <dt>Column label</dt>
            <dd>{view.title ?? view.resourceLinkId}</dd>
            <dt>Quiz retakes</dt>
            <dd><KeepAttemptForm link={view.id} token={token} keep={keep} /></dd>
            <dt>Out of</dt>
            <dd>
              The quiz is out of {QUIZ_MAXIMUM} points. A score sent by another grading tool keeps the total it was marked out of (18 out of 20 stays 18 out of 20).
            </dd>
          </dl>
        </section>
        <section className="card" aria-labelledby="roster">
          <h2 id="roster">Class list</h2>
          {view.roster.refreshedAt ? (
            <dl className="facts">
              <dt>Refreshed</dt>
              <dd><Time value={view.roster.refreshedAt} /></dd>
              <dt>Members</dt>
              <dd>{view.roster.members}</dd>
              <dt>Active students</dt>
              <dd>{view.roster.activeLearners}</dd>
            </dl>
          ) : (
            <p className="muted">Not refreshed yet. Students appear here as they open the activity; the full class list is read from your LMS within a few hours.</p>
          )}
        </section>
      </div>

      <section className="card" aria-labelledby="students">
        <h2 id="students">Students</h2>
        <p className="muted">Those needing attention come first. {total > 0 ? `${total} ${total === 1 ? "score" : "scores"} recorded.` : ""}</p>
        <Suspense key={page} fallback={<TableSkeleton rows={8} />}>
          <Students view={view} token={token} page={page} />
        </Suspense>
      </section>

      <div className="grid two">
        <section className="card" aria-labelledby="runs">
          <h2 id="runs">Recent syncs</h2>
          <Suspense fallback={<TableSkeleton rows={3} />}>
            <Runs view={view} />
          </Suspense>
        </section>
        <section className="card" aria-labelledby="chart">
          <h2 id="chart">Last 30 days</h2>
          <Suspense fallback={<div className="skeleton chart-skeleton" />}>
            <Chart view={view} />
          </Suspense>
        </section>
      </div>
      <p className="muted small">Times are in UTC. {dispatcher().mode === "inngest" ? "Syncs run in the background." : ""}</p>
    </main>
  );
}

async function Students({ view, token, page }: { view: LinkState; token: string; page: number }) {
  const db = await getDb();
  const result = await studentPage(db, { resourceLinkRef: view.id, contextRef: view.contextRef, page, rosterRefreshed: view.roster.refreshedAt !== null });
  if (result.total === 0) return <p className="empty">No students yet. They appear here when they open the activity or when the class list is read from your LMS.</p>;
  return (
    <StudentsTable
      rows={result.rows}
      audience="teacher"
      pager={<Pager page={result.page} pages={result.pages} label="Student pages" href={(p) => withSession(`/contexts/${view.id}?page=${p}`, token)} />}
    />
  );
}

/** The `overridden` action names the "Changed in your gradebook" section: there it is a link to it. */

/** Whether grades go out: paused by the teacher, or by an administrator for the whole LMS. */
function Sending({ view }: { view: LinkState }) {
  if (view.platform.paused)
    return <p><Badge tone="warn">Paused by your school</Badge> Your school&apos;s administrator paused sending to this LMS. Scores are kept and sent when they resume it.</p>;
  if (view.pausedAt)
    return <p><Badge tone="warn">Paused</Badge> Since <Time value={view.pausedAt} />. Scores are kept here and sent when you resume.</p>;
  return <p><Badge tone="ok">On</Badge> Grades go to your gradebook as they come. Pause while you regrade by hand.</p>;
}

/** Students whose gradebook grade a person set, both values, and the last weekly check. */
async function Changes({ view, token }: { view: LinkState; token: string }) {
  const { rows, total } = await gradebookChanges(await getDb(), view.id);
  const shown = rows.map((r) => ({
    userId: r.userId,
    who: r.name ?? r.userId,
    lms: lmsGrade(r),
    ours: onColumnScale(r),
    seenAt: r.seenAt,
    newer: r.newer,
    shown: JSON.stringify({ u: r.userId, s: r.lmsScore, m: r.lmsMaximum }),
  }));
  return (
    <>
      <p className="muted" data-reconcile>{reconcileWords(view.drift)}</p>
      {total === 0 ? (
        <p className="empty">None: no grade Gradesync sent was changed by hand in your gradebook.</p>
      ) : (
        <p>
          {total === 1 ? "1 student's grade was" : `${total} students' grades were`} changed by hand in your gradebook. Gradesync keeps the
          gradebook&apos;s grade unless you choose otherwise: nothing to do if {total === 1 ? "it is" : "they are"} right.
        </p>
      )}
      <GradebookChanges link={view.id} token={token} rows={shown} total={total} />
    </>
  );
}

async function Runs({ view }: { view: LinkState }) {
  const db = await getDb();
  const runs = await contextRuns(db, { contextRef: view.contextRef, resourceLinkRef: view.id });
  if (!runs.length) return <p className="empty">No sync has run for this course yet.</p>;
  return (
    <ul className="runs">
      {runs.map((r) => {
        const w = runOutcomeWords(r.outcome);
        const words = runWords(r);
        return (
          <li key={r.id}>
            <Badge tone={w.tone}>{w.label}</Badge> {words.kind}
            {words.trigger ? <span className="muted"> ({words.trigger})</span> : null}
            <div className="muted small">
              <Time value={r.startedAt} /> · {words.counts}
            </div>
          </li>
        );
      })}
    </ul>
  );
}

async function Chart({ view }: { view: LinkState }) {
  const db = await getDb();
  return <OutcomeChart days={await outcomeSeries(db, { resourceLinkRef: view.id })} />;
}

function TableSkeleton({ rows }: { rows: number }) {
  return (
    <div className="skeleton-table" aria-busy="true" aria-label="Loading">
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="skeleton line" />
      ))}
    </div>
  );
}

