/**
 * The teacher's "Changed in your gradebook": students whose LMS grade a person set (rows kept
 * `overridden`), with both values and when the LMS's was seen — exactly what "Send Gradesync's
 * score" confirms and overwrites (lib/grades/overwrite.ts) — and the last reconcile in words.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf, toDate, toNullableNumber, toNumber } from "../db/rows";
import type { LinkState } from "../links/state";

type Num = number | string | null;

/** At most this many are listed (and so overwritten by "all" at once); the count says how many more. */
export const CHANGES_SHOWN = 200;

export interface GradebookChange {
  userId: string;
  name: string | null;
  /** Gradesync's score (the newest it holds). */
  scoreGiven: number | null;
  scoreMaximum: number | null;
  /** What the LMS held when read; a null score: a person cleared the grade. */
  lmsScore: number | null;
  lmsMaximum: number | null;
  seenAt: Date | null;
  /** Gradesync holds a newer score than the one it last sent (waiting behind the hand grade). */
  newer: boolean;
}

export async function gradebookChanges(db: Db, resourceLinkRef: string, limit = CHANGES_SHOWN): Promise<{ rows: GradebookChange[]; total: number }> {
  const raw = await rowsOf<{
    user_id: string; name: string | null; score_given: Num; score_maximum: Num; lms_score: Num; lms_maximum: Num;
    lms_seen_at: Date | string | null; newer: boolean; total: number | string;
  }>(
    db,
    sql`SELECT g.user_id, u.name, g.score_given, g.score_maximum, g.lms_score, g.lms_maximum, g.lms_seen_at,
          g.revision > coalesce(g.sent_revision, 0) AS newer, count(*) OVER () AS total
        FROM grade_rows g JOIN resource_links rl ON rl.id = g.resource_link_ref JOIN contexts c ON c.id = rl.context_ref
        LEFT JOIN users u ON u.platform_ref = c.platform_ref AND u.user_id = g.user_id
        WHERE g.resource_link_ref = ${resourceLinkRef}::uuid AND g.state = 'overridden'
        ORDER BY lower(coalesce(u.name, g.user_id)), g.user_id LIMIT ${limit}::int`,
  );
  const rows = raw.map((r) => ({
    userId: r.user_id,
    name: r.name,
    scoreGiven: toNullableNumber(r.score_given),
    scoreMaximum: toNullableNumber(r.score_maximum),
    lmsScore: toNullableNumber(r.lms_score),
    lmsMaximum: toNullableNumber(r.lms_maximum),
    seenAt: toDate(r.lms_seen_at),
    newer: Boolean(r.newer),
  }));
  return { rows, total: toNumber(raw[0]?.total) };
}

const DAY_MS = 86_400_000;
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** "today", "yesterday", a weekday within the week, else "3 November" (UTC, as the page's times). */
export function dayWords(at: Date, now: Date): string {
  const day = (d: Date) => Math.floor(d.getTime() / DAY_MS);
  const ago = day(now) - day(at);
  if (ago <= 0) return "today";
  if (ago === 1) return "yesterday";
  if (ago < 7) return WEEKDAYS[at.getUTCDay()]!;
  return `${at.getUTCDate()} ${MONTHS[at.getUTCMonth()]}${at.getUTCFullYear() === now.getUTCFullYear() ? "" : ` ${at.getUTCFullYear()}`}`;
}

/** The last reconcile in words: "Checked Tuesday: 48 of 50 match; 2 changed by hand." */
export function reconcileWords(drift: LinkState["drift"], now = new Date()): string {
  if (!drift.checkedAt) return "Not checked yet: once a week Gradesync reads your gradebook back to check that every grade it sent is still there.";
  const total = drift.inSync + drift.differs + drift.missing;
  const when = dayWords(drift.checkedAt, now);
  const checked = `Checked ${when}`;
  if (total === 0) return `${checked}: no grade had been sent yet.`;
  const parts = [`${drift.inSync} of ${total} match`];
  if (drift.differs) parts.push(`${drift.differs} changed by hand`);
  if (drift.missing) parts.push(`${drift.missing} missing from the gradebook (sent again)`);
  return `${checked}: ${parts.join("; ")}.`;
}
