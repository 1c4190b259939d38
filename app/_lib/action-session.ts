/**
 * Server actions re-check who is asking on every call: the form's hidden token must name the link's
 * context, and a teacher must still be one. Never trust the form's other fields for that. The
 * partitioned cookie is not read here: it is SameSite=None, so a browser attaches it to a post from
 * any page inside the LMS, while the token in the form is something another page cannot know.
 */
import { getResourceLinkView, memberKind, type ResourceLinkView } from "@/lib/contexts/queries";
import { getDb } from "@/lib/db/client";
import { SESSION_PARAM, verifySession, type Session } from "@/lib/session/session";

export type ActionAccess =
  | { ok: true; session: Session; token: string; view: ResourceLinkView; member: { kind: string; name: string | null; userId: string } | null }
  | { ok: false; error: "no_session" | "forbidden" | "not_found" };

export async function actionAccess(form: FormData, role?: "teacher"): Promise<ActionAccess> {
  const posted = form.get(SESSION_PARAM);
  const token = typeof posted === "string" ? posted : undefined;
  const session = await verifySession(token);
  if (!session || !token) return { ok: false, error: "no_session" };
  const link = form.get("link");
  const db = await getDb();
  const view = typeof link === "string" ? await getResourceLinkView(db, link) : null;
  if (!view) return { ok: false, error: "not_found" };
  if (session.contextRef !== view.contextRef) return { ok: false, error: "forbidden" };
  if (role === "teacher" && session.role !== "teacher") return { ok: false, error: "forbidden" };
  const member = await memberKind(db, view.contextRef, session.userRef);
  if (role === "teacher" && member?.kind !== "teacher") return { ok: false, error: "forbidden" };
  return { ok: true, session, token, view, member };
}

export const ACCESS_WORDS: Record<Exclude<ActionAccess, { ok: true }>["error"], string> = {
  no_session: "Your session has ended. Open the assignment again from your course.",
  forbidden: "This action is for the teachers of this course.",
  not_found: "This assignment is no longer known to Gradesync. Open it again from your course.",
};
