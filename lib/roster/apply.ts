/**
 * The swap at the end of a complete refresh, in one short transaction: batched upserts of users and
 * memberships (one statement per batch of members: a data-modifying CTE over a JSON parameter), then
 * members the roster no longer lists become Inactive (never deleted: their grade history stays;
 * administrators who launched without a course role are on no roster and keep their state), then
 * the context's counts. Rows whose roles and status did not change are not rewritten.
 *
 * A launch recorded after the roster was fetched is newer evidence than the roster: that membership
 * keeps what the launch said.
 */
import { sql } from "drizzle-orm";
import type { Db, Tx } from "../db/client";
import { classifyRoles, hasCourseRole } from "../lti/roles";
import type { Member } from "../ltiaas";
import { rowsOf } from "../db/rows";
import { log } from "../log";
import { cleanOptional, cleanText, isStorableId } from "../validation";

/** Members per statement: 20 LMS pages of 50, far below any parameter or statement limit (one JSON parameter). */
export const APPLY_BATCH = 1_000;

export interface ApplyInput {
  contextRef: string;
  platformRef: string;
  members: Member[];
  /** When the first page was requested. */
  fetchStartedAt: Date;
}

export interface ApplyResult {
  members: number;
  activeLearners: number;
  /** Memberships that became Inactive because the roster no longer lists them. */
  inactivated: number;
  /** Members left out because their id cannot be stored as it is (see storableMembers). */
  dropped: number;
  /** SQL statements the swap took (BEGIN and COMMIT included). */
  statements: number;
}

interface Row {
  user_id: string;
  name: string | null;
  email: string | null;
  roles: string[];
  kind: string;
  test_user: boolean;
  status: string;
}

function displayName(m: Member): string | null {
  const name = cleanOptional(m.name);
  if (name) return name;
  const parts = [cleanOptional(m.givenName), cleanOptional(m.familyName)].filter(Boolean);
  return parts.length ? parts.join(" ") : null;
}

/**
 * One member the database cannot store must not block a whole roster (every later refresh would
 * fail the same way): text is cleaned (toRows), and a member whose id is not one Gradesync can key
 * by (over 255 characters, a lone surrogate) is left out — an altered id would name someone else.
 */
export function storableMembers(members: Member[]): { members: Member[]; dropped: number } {
  const kept = members.filter((m) => isStorableId(m.userId));
  return { members: kept, dropped: members.length - kept.length };
}

/**
 * One row per user id (the last one an LMS listed wins: an upsert may not touch a row twice), its
 * text cleaned: the batch travels as jsonb, which refuses a lone surrogate anywhere in it.
 */
export function toRows(members: Member[]): Row[] {
  const byUser = new Map<string, Row>();
  for (const m of members) {
    const roles = m.roles.map(cleanText);
    const c = classifyRoles(roles);
    byUser.set(m.userId, {
      user_id: m.userId,
      name: displayName(m),
      email: cleanOptional(m.email) ?? null,
      roles,
      kind: c.kind,
      test_user: c.testUser,
      status: m.status,
    });
  }
  return [...byUser.values()];
}

async function upsertBatch(tx: Tx, input: ApplyInput, batch: Row[]): Promise<void> {
  await tx.execute(sql`WITH input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(batch)}::jsonb)
        AS x(user_id text, name text, email text, roles text[], kind text, test_user boolean, status text)
    ), changed AS (
      INSERT INTO users (platform_ref, user_id, name, email)
      SELECT ${input.platformRef}::uuid, user_id, name, email FROM input
      ON CONFLICT (platform_ref, user_id) DO UPDATE
        SET name = coalesce(excluded.name, users.name), email = coalesce(excluded.email, users.email), updated_at = now()
        WHERE (excluded.name IS NOT NULL AND excluded.name IS DISTINCT FROM users.name)
           OR (excluded.email IS NOT NULL AND excluded.email IS DISTINCT FROM users.email)
      RETURNING id, user_id
    ), ids AS (
      -- Rows the upsert left alone are not returned by it; the statement's snapshot still sees them.
      SELECT id, user_id FROM changed
      UNION
      SELECT u.id, u.user_id FROM users u
      WHERE u.platform_ref = ${input.platformRef}::uuid AND u.user_id IN (SELECT user_id FROM input)
    )
    INSERT INTO memberships (context_ref, user_ref, roles, kind, test_user, status, updated_at)
    SELECT ${input.contextRef}::uuid, ids.id, i.roles, i.kind, i.test_user, i.status, now()
    FROM input i JOIN ids USING (user_id)
    ON CONFLICT (context_ref, user_ref) DO UPDATE
      SET roles = excluded.roles, kind = excluded.kind, test_user = excluded.test_user, status = excluded.status, updated_at = now()
      WHERE (memberships.last_launch_at IS NULL OR memberships.last_launch_at < ${input.fetchStartedAt.toISOString()}::timestamptz)
        AND (memberships.roles, memberships.kind, memberships.test_user, memberships.status)
            IS DISTINCT FROM (excluded.roles, excluded.kind, excluded.test_user, excluded.status)`);
}

export async function applyRoster(db: Db, input: ApplyInput): Promise<ApplyResult> {
  // One lock order for every writer, so concurrent refreshes and launches cannot deadlock: the
  // context row first (a launch upserts it before its user and membership), then users by id
  // (two courses of one platform share users).
  const storable = storableMembers(input.members);
  if (storable.dropped) log.warn("roster.members_dropped", { contextRef: input.contextRef, dropped: storable.dropped, reason: "id_not_storable" });
  const rows = toRows(storable.members).sort((a, b) => (a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : 0));
  let statements = 3;
  const result = await db.transaction(async (tx) => {
    await tx.execute(sql`SELECT id FROM contexts WHERE id = ${input.contextRef}::uuid FOR UPDATE`);
    for (let i = 0; i < rows.length; i += APPLY_BATCH) {
      await upsertBatch(tx, input, rows.slice(i, i + APPLY_BATCH));
      statements++;
    }
    const listed = JSON.stringify(rows.map((r) => r.user_id));
    const unlisted = await rowsOf<{ user_ref: string; roles: string[]; launched: boolean }>(tx, sql`SELECT m.user_ref, m.roles, m.last_launch_at IS NOT NULL AS launched FROM memberships m
      WHERE m.context_ref = ${input.contextRef}::uuid AND m.status = 'Active'
        AND (m.last_launch_at IS NULL OR m.last_launch_at < ${input.fetchStartedAt.toISOString()}::timestamptz)
        AND m.user_ref NOT IN (SELECT u.id FROM users u WHERE u.platform_ref = ${input.platformRef}::uuid
                               AND u.user_id IN (SELECT jsonb_array_elements_text(${listed}::jsonb)))`);
    statements++;
    // An administrator who launched with only an institution or system role is on no roster: missing
    // from it says nothing, and marking them Inactive would close their teacher page.
    const gone = unlisted.filter((m) => !m.launched || hasCourseRole(m.roles)).map((m) => m.user_ref);
    let inactivated = 0;
    if (gone.length) {
      const updated = await rowsOf<{ user_ref: string }>(tx, sql`UPDATE memberships SET status = 'Inactive', updated_at = now()
        WHERE context_ref = ${input.contextRef}::uuid AND status = 'Active'
          AND user_ref IN (SELECT (jsonb_array_elements_text(${JSON.stringify(gone)}::jsonb))::uuid)
        RETURNING user_ref`);
      inactivated = updated.length;
      statements++;
    }
    const [c] = await rowsOf<{ roster_members: number; roster_active_learners: number }>(tx, sql`UPDATE contexts c SET roster_refreshed_at = now(), updated_at = now(),
        roster_members = s.members, roster_active_learners = s.active_learners
      FROM (SELECT count(*)::int AS members,
                   (count(*) FILTER (WHERE kind = 'learner' AND status = 'Active'))::int AS active_learners
            FROM memberships WHERE context_ref = ${input.contextRef}::uuid) s
      WHERE c.id = ${input.contextRef}::uuid
      RETURNING c.roster_members, c.roster_active_learners`);
    statements++;
    return {
      members: Number(c?.roster_members ?? 0),
      activeLearners: Number(c?.roster_active_learners ?? 0),
      inactivated,
    };
  });
  return { ...result, dropped: storable.dropped, statements };
}
