import { cookies } from "next/headers";
import { forbidden, notFound, unauthorized } from "next/navigation";
import { getResourceLinkView, memberKind, type ResourceLinkView } from "@/lib/contexts/queries";
import { getDb } from "@/lib/db/client";
import { SESSION_COOKIE, SESSION_PARAM, verifySession, type Session } from "@/lib/session/session";

export type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** One string value of a query parameter (the first when repeated). */
export function param(params: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = params[name];
  return typeof v === "string" ? v : Array.isArray(v) ? v[0] : undefined;
}

/** The launch session of this request (`?s=` first, else the partitioned cookie), or a 401 page. */
export async function requireSession(searchParams: SearchParams): Promise<{ session: Session; token: string }> {
  const params = await searchParams;
  const fromQuery = param(params, SESSION_PARAM);
  // An empty `?s=` counts as none, as in proxy.ts, so the cookie still opens the page.
  const token = fromQuery || (await cookies()).get(SESSION_COOKIE)?.value;
  const session = await verifySession(token);
  if (!session || !token) unauthorized();
  return { session, token };
}

/** 403 unless the session belongs to the context that owns the page. */
export function requireContext(session: Session, contextRef: string, role?: "teacher"): void {
  if (session.contextRef !== contextRef) forbidden();
  if (role === "teacher" && session.role !== "teacher") forbidden();
}

export interface PageAccess {
  session: Session;
  token: string;
  view: ResourceLinkView;
  member: { kind: string; name: string | null; userId: string } | null;
}

/**
 * The whole check of an LTI page: a session (401), the link (404), the session's context (403) and,
 * for teachers, their current membership — a roster refresh may have demoted them since the launch.
 */
export async function requireLinkAccess(id: string, searchParams: SearchParams, role?: "teacher"): Promise<PageAccess> {
  const { session, token } = await requireSession(searchParams);
  const db = await getDb();
  const view = await getResourceLinkView(db, id);
  if (!view) notFound();
  requireContext(session, view.contextRef, role);
  const member = await memberKind(db, view.contextRef, session.userRef);
  if (role === "teacher" && member?.kind !== "teacher") forbidden();
  return { session, token, view, member };
}
