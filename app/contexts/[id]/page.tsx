import type { Metadata } from "next";
import { forbidden, notFound } from "next/navigation";
import { requireContext, requireSession, type SearchParams } from "@/app/_lib/page-session";
import { getResourceLinkView, memberKind } from "@/lib/contexts/queries";
import { getDb } from "@/lib/db/client";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Grade sync" };

const KEY_WORDS = {
  active: { label: "Connected", tone: "ok", help: "Gradesync can send grades to your gradebook." },
  needs_relaunch: { label: "Needs a launch", tone: "bad", help: "The LMS stopped accepting our key. Open this assignment once from your course to reconnect; pending grades are kept and sent then." },
  missing: { label: "No grade access", tone: "warn", help: "This link was launched without grade services. Check that the tool is placed as a graded assignment." },
} as const;

export default async function TeacherPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: SearchParams }) {
  const { session } = await requireSession(searchParams);
  const { id } = await params;
  const db = await getDb();
  const view = await getResourceLinkView(db, id);
  if (!view) notFound();
  requireContext(session, view.contextRef, "teacher");
  const member = await memberKind(db, view.contextRef, session.userRef);
  if (member?.kind !== "teacher") forbidden();
  const key = KEY_WORDS[view.key.state];

  return (
    <main>
      <header className="card">
        <h1>{view.title ?? view.resourceLinkId}</h1>
        <p className="muted">
          {view.course.title ?? view.course.contextId}
          {view.platform.name ? ` · ${view.platform.name}` : ""}
        </p>
      </header>
      <section className="card" aria-labelledby="conn">
        <h2 id="conn">Gradebook connection</h2>
        <p>
          <span className={`badge ${key.tone}`}>{key.label}</span> {key.help}
        </p>
        <dl className="facts">
          <dt>Last launch</dt>
          <dd>{view.key.lastLaunchAt ? <time dateTime={view.key.lastLaunchAt.toISOString()}>{view.key.lastLaunchAt.toUTCString()}</time> : "never"}</dd>
          <dt>Gradebook column</dt>
          <dd>{view.launchLineItemId ? "Named by your LMS" : "Found or created at the first sync"}</dd>
        </dl>
      </section>
    </main>
  );
}
