/**
 * The one check of an LTI page or action against a link: the link exists, the session belongs to
 * its context, and, for teachers, the session's role and the current membership agree — a roster
 * refresh may have demoted them since the launch. Callers turn a refusal into a page or words.
 */
import { memberKind } from "@/lib/links/member";
import { getLink, type LinkState } from "@/lib/links/state";
import { getDb } from "@/lib/db/client";
import type { Session } from "@/lib/session/session";

export type Member = NonNullable<Awaited<ReturnType<typeof memberKind>>>;

export type LinkAccess = { ok: true; view: LinkState; member: Member | null } | { ok: false; error: "forbidden" | "not_found" };

export async function linkAccess(session: Session, linkId: string | null, role?: "teacher"): Promise<LinkAccess> {
  const db = await getDb();
  const view = linkId === null ? null : await getLink(db, linkId);
  if (!view) return { ok: false, error: "not_found" };
  if (session.contextRef !== view.contextRef) return { ok: false, error: "forbidden" };
  if (role === "teacher" && session.role !== "teacher") return { ok: false, error: "forbidden" };
  const member = await memberKind(db, view.contextRef, session.userRef);
  if (role === "teacher" && member?.kind !== "teacher") return { ok: false, error: "forbidden" };
  return { ok: true, view, member };
}
