import { cookies } from "next/headers";
import { forbidden, unauthorized } from "next/navigation";
import { SESSION_COOKIE, SESSION_PARAM, verifySession, type Session } from "@/lib/session/session";

export type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** The launch session of this request (`?s=` first, else the partitioned cookie), or a 401 page. */
export async function requireSession(searchParams: SearchParams): Promise<{ session: Session; token: string }> {
  const params = await searchParams;
  const fromQuery = typeof params[SESSION_PARAM] === "string" ? (params[SESSION_PARAM] as string) : undefined;
  const token = fromQuery ?? (await cookies()).get(SESSION_COOKIE)?.value;
  const session = await verifySession(token);
  if (!session || !token) unauthorized();
  return { session, token };
}

/** 403 unless the session belongs to the context that owns the page. */
export function requireContext(session: Session, contextRef: string, role?: "teacher"): void {
  if (session.contextRef !== contextRef) forbidden();
  if (role === "teacher" && session.role !== "teacher") forbidden();
}
