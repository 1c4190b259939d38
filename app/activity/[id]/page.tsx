import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { requireContext, requireSession, type SearchParams } from "@/app/_lib/page-session";
import { getResourceLinkView, memberKind } from "@/lib/contexts/queries";
import { getDb } from "@/lib/db/client";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Activity" };

export default async function LearnerPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: SearchParams }) {
  const { session } = await requireSession(searchParams);
  const { id } = await params;
  const db = await getDb();
  const view = await getResourceLinkView(db, id);
  if (!view) notFound();
  requireContext(session, view.contextRef);
  const member = await memberKind(db, view.contextRef, session.userRef);

  return (
    <main>
      <header className="card">
        <h1>{view.title ?? "Activity"}</h1>
        <p className="muted">{view.course.title ?? view.course.contextId}</p>
      </header>
      <section className="card">
        <p>Welcome{member?.name ? `, ${member.name}` : ""}. Your work here is graded, and your score is sent to your course gradebook.</p>
      </section>
    </main>
  );
}
