/**
 * One link as the operator sees it: what the teacher's page shows (the link's state, grades changed
 * in the LMS, students, recent syncs — the same read models) plus the latest requests sent to the LMS
 * with its answers, and every recent run that touched the link, with their counts and codes.
 */
import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { Suspense } from "react";
import { requireAdmin } from "@/app/_lib/admin";
import { Badge, lmsGrade, onColumnScale, Time } from "@/app/_lib/format";
import { param, type SearchParams } from "@/app/_lib/page-session";
import { Pager } from "@/app/_lib/pager";
import { getDb } from "@/lib/db/client";
import { getLink, type LinkState } from "@/lib/links/state";
import { gradebookChanges, reconcileWords } from "@/lib/views/gradebook-changes";
import { linkAttempts } from "@/lib/views/link-detail";
import { KEY_WORDS, LINE_ITEM_WORDS } from "@/lib/views/reasons";
import { pageNumber } from "@/lib/views/rows";
import { contextRuns, studentPage } from "@/lib/views/teacher";
import { StudentsTable } from "@/app/contexts/[id]/students-table";
import { Verdict } from "@/app/contexts/[id]/verdict";
import { RunsTable } from "../../runs-table";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Link detail · Gradesync operations" };

export default async function LinkDetailPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: SearchParams }) {
  await requireAdmin();
  const { id } = await params;
  const link = await getLink(await getDb(), id);
  if (!link) notFound();
  const page = pageNumber(param(await searchParams, "page"));
  const c = link.counts;
  const key = KEY_WORDS[link.key.state];
  const item = LINE_ITEM_WORDS[link.lineItem.state];

  return (
    <main className="wide">
      <header className="page-head">
        <div>
          <p className="small"><Link href="/admin">← All courses</Link></p>
          <h1>{link.title ?? link.resourceLinkId}</h1>
          <p className="muted">
            {link.course.title ?? link.course.contextId}
            {link.course.label ? ` (${link.course.label})` : ""} · {link.platform.name ?? link.platform.platformId}
          </p>
          <p className="muted small mono">
            {link.platform.platformId} / {link.course.contextId} / {link.resourceLinkId} · id {link.id}
          </p>
        </div>
      </header>

      <section className="card" aria-labelledby="state-h">
        <h2 id="state-h">State</h2>
        <p className="muted small">What the teacher reads:</p>
        <Verdict view={link} />
        <ul className="counts" aria-label="Grades by state">
          <li><strong data-count="pending">{c.pending}</strong> pending</li>
          <li><strong data-count="sent">{c.sent}</strong> sent</li>
          <li><strong data-count="skipped">{c.skipped}</strong> skipped</li>
          <li><strong data-count="failed">{c.failed}</strong> failed</li>
          <li><strong data-count="overridden">{c.overridden}</strong> set by hand</li>
        </ul>
        <dl className="facts">
          <dt>Key</dt>
          <dd><Badge tone={key.tone}>{key.label}</Badge> last launch <Time value={link.key.lastLaunchAt} empty="never" />{link.key.stateReason ? <span className="muted"> — {link.key.stateReason}</span> : null}</dd>
          <dt>Column</dt>
          <dd>
            <Badge tone={item.tone}>{item.label}</Badge> <span className="mono small">{link.lineItem.id ?? "—"}</span>
          </dd>
          <dt>Sending</dt>
          <dd data-paused={link.paused ? "true" : "false"}>
            {link.platform.paused ? (
              <><Badge tone="warn">Paused</Badge> the platform is paused (Platforms, on /admin)</>
            ) : link.pausedAt ? (
              <><Badge tone="warn">Paused</Badge> by the teacher since <Time value={link.pausedAt} /></>
            ) : (
              <Badge tone="ok">On</Badge>
            )}
          </dd>
          <dt>Oldest pending</dt>
          <dd><Time value={c.oldestPendingAt} /></dd>
          <dt>Last reconcile</dt>
          <dd data-drift>{reconcileWords(link.drift)}</dd>
          <dt>Class list</dt>
          <dd>
            {link.roster.refreshedAt ? (
              <>{link.roster.members} members, {link.roster.activeLearners} active learners · <Time value={link.roster.refreshedAt} /></>
            ) : (
              <span className="muted">not refreshed</span>
            )}
          </dd>
        </dl>
      </section>

      <section className="card" aria-labelledby="changes-h">
        <h2 id="changes-h">Changed in the gradebook</h2>
        <Suspense fallback={<div className="skeleton block" aria-busy="true" />}>
          <Changes link={link} />
        </Suspense>
      </section>

      <section className="card" aria-labelledby="students-h">
        <h2 id="students-h">Students</h2>
        <Suspense key={page} fallback={<div className="skeleton block" aria-busy="true" />}>
          <Students link={link} page={page} />
        </Suspense>
      </section>

      <section className="card" aria-labelledby="attempts-h">
        <h2 id="attempts-h">Latest requests and the LMS&apos;s answers</h2>
        <Suspense fallback={<div className="skeleton block" aria-busy="true" />}>
          <Attempts link={link} />
        </Suspense>
      </section>

      <section className="card" aria-labelledby="runs-h">
        <h2 id="runs-h">Runs</h2>
        <Suspense fallback={<div className="skeleton block" aria-busy="true" />}>
          <Runs link={link} />
        </Suspense>
      </section>
    </main>
  );
}

async function Changes({ link }: { link: LinkState }) {
  const { rows, total } = await gradebookChanges(await getDb(), link.id);
  if (total === 0) return <p className="empty">No grade Gradesync sent was changed by hand in the LMS.</p>;
  return (
    <div className="table-wrap">
      <table className="changes">
        <thead>
          <tr>
            <th scope="col">Student</th>
            <th scope="col">In the LMS</th>
            <th scope="col">Gradesync&apos;s</th>
            <th scope="col">Seen</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.userId} data-user={r.userId}>
              <th scope="row">
                {r.name ?? r.userId}
                <div className="muted small mono">{r.userId}</div>
              </th>
              <td>{lmsGrade(r)}</td>
              <td>
                {onColumnScale(r)}
                {r.newer ? <span className="muted small"> (newer, waiting)</span> : null}
              </td>
              <td><Time value={r.seenAt} /></td>
            </tr>
          ))}
        </tbody>
      </table>
      {total > rows.length ? <p className="muted">Only the first {rows.length} of {total} are shown.</p> : null}
    </div>
  );
}


async function Students({ link, page }: { link: LinkState; page: number }) {
  const result = await studentPage(await getDb(), { resourceLinkRef: link.id, contextRef: link.contextRef, page, rosterRefreshed: link.roster.refreshedAt !== null });
  if (result.total === 0) return <p className="empty">No students yet.</p>;
  return (
    <StudentsTable
      rows={result.rows}
      audience="admin"
      pager={<Pager page={result.page} pages={result.pages} label="Student pages" href={(p) => `/admin/links/${link.id}?page=${p}`} />}
    />
  );
}

async function Attempts({ link }: { link: LinkState }) {
  const attempts = await linkAttempts(await getDb(), link.id);
  if (!attempts.length) return <p className="empty">Nothing has been sent to the LMS for this link yet.</p>;
  return (
    <div className="table-wrap">
      <table className="attempts">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Student</th>
            <th scope="col">Revision</th>
            <th scope="col">Answer</th>
            <th scope="col">Run</th>
          </tr>
        </thead>
        <tbody>
          {attempts.map((a) => (
            <tr key={a.id} data-outcome={a.outcome}>
              <td><Time value={a.at} /></td>
              <td>
                {a.name ?? a.userId}
                {a.name ? <div className="muted small mono">{a.userId}</div> : null}
              </td>
              <td>{a.revision}</td>
              <td>
                {a.outcome.replaceAll("_", " ")}
                {a.httpStatus ? ` (HTTP ${a.httpStatus})` : ""}
                {a.errorCode ? <span className="muted"> — {a.errorCode}</span> : null}
                {a.latencyMs !== null ? <span className="muted small"> {a.latencyMs} ms</span> : null}
              </td>
              <td className="small">{a.runKind ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

async function Runs({ link }: { link: LinkState }) {
  const runs = await contextRuns(await getDb(), { contextRef: link.contextRef, resourceLinkRef: link.id, limit: 10 });
  return <RunsTable runs={runs} empty="No run has touched this course yet." />;
}
