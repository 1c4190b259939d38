/**
 * Server actions re-check who is asking on every call: the form's hidden token must name the link's
 * context, and a teacher must still be one. Never trust the form's other fields for that. The
 * partitioned cookie is not read here: it is SameSite=None, so a browser attaches it to a post from
 * any page inside the LMS, while the token in the form is something another page cannot know.
 */
import type { LinkState } from "@/lib/links/state";
import { SESSION_PARAM, verifySession, type Session } from "@/lib/session/session";
import { linkAccess, type Member } from "./link-access";

export type ActionAccess =
  | { ok: true; session: Session; token: string; view: LinkState; member: Member | null }
  | { ok: false; error: "no_session" | "forbidden" | "not_found" };

export async function actionAccess(form: FormData, role?: "teacher"): Promise<ActionAccess> {
  const posted = form.get(SESSION_PARAM);
  const token = typeof posted === "string" ? posted : undefined;
  const session = await verifySession(token);
  if (!session || !token) return { ok: false, error: "no_session" };
  const link = form.get("link");
  const access = await linkAccess(session, typeof link === "string" ? link : null, role);
  return access.ok ? { ...access, session, token } : access;
}

export const ACCESS_WORDS: Record<Exclude<ActionAccess, { ok: true }>["error"], string> = {
  no_session: "Your session has ended. Open the assignment again from your course.",
  forbidden: "This action is for the teachers of this course.",
  not_found: "This assignment is no longer known to Gradesync. Open it again from your course.",
};
