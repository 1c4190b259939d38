/**
 * The roster as the pages use it: it explains, it does not decide. Pushes still go to every user
 * with a score (the LMS decides who is gradable); a score the LMS skipped as not gradable is shown
 * with what the roster says about that user.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";

export interface RosterMember {
  userId: string;
  name: string | null;
  /** teacher | learner | mentor | other */
  kind: string;
  /** Active | Inactive | Deleted */
  status: string;
  testUser: boolean;
}

/** Members by LMS user id; `refreshedAt` null means the roster was never fetched (launches only). */
export type RosterView = Map<string, RosterMember> & { refreshedAt: Date | null };

export async function rosterView(db: Db, contextRef: string): Promise<RosterView> {
  const rows = await rowsOf<{ user_id: string; name: string | null; kind: string; status: string; test_user: boolean }>(db, sql`SELECT u.user_id, u.name, m.kind, m.status, m.test_user
    FROM memberships m JOIN users u ON u.id = m.user_ref WHERE m.context_ref = ${contextRef}::uuid
    ORDER BY u.user_id`);
  const ctx = await rowsOf<{ roster_refreshed_at: Date | string | null }>(db, sql`SELECT roster_refreshed_at FROM contexts WHERE id = ${contextRef}::uuid`);
  const at = ctx[0]?.roster_refreshed_at ?? null;
  const view = new Map<string, RosterMember>() as RosterView;
  view.refreshedAt = at === null ? null : new Date(at);
  for (const r of rows) view.set(r.user_id, { userId: r.user_id, name: r.name, kind: r.kind, status: r.status, testUser: r.test_user });
  return view;
}

/**
 * Plain words for why the LMS may refuse this user's grade, or null when the roster has nothing to
 * say (an active learner: the LMS's own reason stands).
 */
export function explainNotGradable(member: RosterMember | undefined): string | null {
  if (!member) return "not on the roster";
  if (member.status !== "Active") return "left the course";
  if (member.testUser) return "a test user";
  if (member.kind !== "learner") return "not a learner in this course";
  return null;
}
