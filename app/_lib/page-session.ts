import { cookies } from "next/headers";
import { forbidden, notFound, unauthorized } from "next/navigation";
import type { LinkState } from "@/lib/links/state";
import { SESSION_COOKIE, SESSION_PARAM, sessionToken, verifySession, type Session } from "@/lib/session/session";
import { linkAccess, type Member } from "./link-access";

export type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** One string value of a query parameter (the first when repeated). */
export function param(params: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = params[name];
  return typeof v === "string" ? v : Array.isArray(v) ? v[0] : undefined;
}

/** The launch session of this request (`?s=` first, else the partitioned cookie), or a 401 page. */
export async function requireSession(searchParams: SearchParams): Promise<{ session: Session; token: string }> {
  const params = await searchParams;
  // The same choice as proxy.ts makes, so the page opens with the session its framing rule allowed.
  const token = sessionToken({ query: param(params, SESSION_PARAM), cookie: (await cookies()).get(SESSION_COOKIE)?.value });
  const session = await verifySession(token);
  if (!session || !token) unauthorized();
  return { session, token };
}

export interface PageAccess {
  session: Session;
  token: string;
  view: LinkState;
  member: Member | null;
}

/** The whole check of an LTI page: a session (401), then linkAccess: the link (404), the context and role (403). */
export async function requireLinkAccess(id: string, searchParams: SearchParams, role?: "teacher"): Promise<PageAccess> {
  const { session, token } = await requireSession(searchParams);
  const access = await linkAccess(session, id, role);
  if (!access.ok) return access.error === "not_found" ? notFound() : forbidden();
  return { session, token, view: access.view, member: access.member };
}
