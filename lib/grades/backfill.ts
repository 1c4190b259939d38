/**
 * Backfill by selector: the current scores of the selected rows become new revisions (audited as
 * backfill) and so are sent again — an explicit request to re-send, unlike a push with nothing
 * changed. A dry run counts and lists what would be sent and changes nothing.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";
import type { ScoreEntry } from "./entry";
import { mayWrite, type Fraction, type LmsResult } from "./truth";

export interface BackfillSelector {
  platformId: string;
  contextId?: string;
  resourceLinkId?: string;
  /** Scores recorded at or after this instant. */
  since?: string;
  /** Send over grades a person set in the LMS too (explicit; audited as overwrites). */
  overwrite?: boolean;
}

export interface BackfillListing {
  platformId: string;
  contextId: string;
  resourceLinkId: string;
  userId: string;
  scoreGiven: number | null;
  scoreMaximum: number | null;
  state: string;
}

export interface BackfillPreview {
  /** Rows that would be sent (without `overwrite`, those whose LMS grade a person set are not). */
  wouldSend: number;
  /** Selected rows whose LMS grade a person set (known to the ledger, or seen in the LMS just now). */
  overridden: number;
  rows: BackfillListing[];
  /** Resource links whose line item was read for this preview (the others: what the ledger knows). */
  linksRead: number;
}

export const LIST_LIMIT = 1000;
/** A preview reads at most this many line items (it answers while the operator waits). */
export const PREVIEW_READ_LINKS = 25;

function selected(s: BackfillSelector) {
  return sql`p.platform_id = ${s.platformId}::text
    ${s.contextId !== undefined ? sql`AND c.context_id = ${s.contextId}::text` : sql``}
    ${s.resourceLinkId !== undefined ? sql`AND rl.resource_link_id = ${s.resourceLinkId}::text` : sql``}
    ${s.since !== undefined ? sql`AND g.recorded_at >= ${s.since}::timestamptz` : sql``}
    -- A grade already sent is never followed by a score that would clear it.
    AND NOT (g.grade_sent AND g.grading_progress <> 'FullyGraded')`;
}

/** What a backfill re-sends: without `overwrite`, never a row whose LMS grade a person set. */
const resent = (s: BackfillSelector) => (s.overwrite ? selected(s) : sql`${selected(s)} AND g.state <> 'overridden'`);

const FROM = sql`grade_rows g JOIN resource_links rl ON rl.id = g.resource_link_ref JOIN contexts c ON c.id = rl.context_ref
  JOIN platforms p ON p.id = c.platform_ref`;

/** The first part of a selector that names nothing Gradesync knows (null: platform, course and link all exist). */
export async function unknownSelectorPart(db: Db, s: Pick<BackfillSelector, "platformId" | "contextId" | "resourceLinkId">): Promise<"platform" | "context" | "resourceLink" | null> {
  const [r] = await rowsOf<{ platform: boolean; context: boolean; link: boolean }>(
    db,
    sql`SELECT EXISTS (SELECT 1 FROM platforms p WHERE p.platform_id = ${s.platformId}::text) AS platform,
          EXISTS (SELECT 1 FROM platforms p JOIN contexts c ON c.platform_ref = p.id WHERE p.platform_id = ${s.platformId}::text
            ${s.contextId !== undefined ? sql`AND c.context_id = ${s.contextId}::text` : sql``}) AS context,
          EXISTS (SELECT 1 FROM ${FROM_LINKS} WHERE p.platform_id = ${s.platformId}::text
            ${s.contextId !== undefined ? sql`AND c.context_id = ${s.contextId}::text` : sql``}
            ${s.resourceLinkId !== undefined ? sql`AND rl.resource_link_id = ${s.resourceLinkId}::text` : sql``}) AS link`,
  );
  if (!r?.platform) return "platform";
  if (s.contextId !== undefined && !r.context) return "context";
  if (s.resourceLinkId !== undefined && !r.link) return "resourceLink";
  return null;
}

const FROM_LINKS = sql`resource_links rl JOIN contexts c ON c.id = rl.context_ref JOIN platforms p ON p.id = c.platform_ref`;

/** Reads a link's results now (null: it cannot be read — paused, no key, no line item). */
export type LinkReader = (linkRef: string) => Promise<Map<string, LmsResult | null> | null>;

/**
 * Counts and lists what a backfill would send, sending nothing. With a reader, the line items of the
 * first PREVIEW_READ_LINKS selected links are read: a grade a person set there since Gradesync last
 * looked is counted as overridden too (and, without `overwrite`, not as would-be-sent).
 */
export async function previewBackfill(db: Db, s: BackfillSelector, read?: LinkReader): Promise<BackfillPreview> {
  const [count] = await rowsOf<{ n: number; overridden: number }>(
    db,
    sql`SELECT count(*)::int AS n, count(*) FILTER (WHERE g.state = 'overridden')::int AS overridden FROM ${FROM} WHERE ${selected(s)}`,
  );
  const seen = read ? await overriddenInLms(db, s, read) : { rows: new Set<number>(), links: 0 };
  const overridden = Number(count?.overridden ?? 0) + seen.rows.size;
  const rows = await rowsOf<BackfillListing & { id: number }>(db, sql`SELECT g.id, p.platform_id AS "platformId", c.context_id AS "contextId",
      rl.resource_link_id AS "resourceLinkId", g.user_id AS "userId", g.score_given AS "scoreGiven", g.score_maximum AS "scoreMaximum", g.state
    FROM ${FROM} WHERE ${selected(s)} ORDER BY g.id LIMIT ${LIST_LIMIT}::int`);
  const listed = rows
    .map(({ id, ...r }) => (seen.rows.has(Number(id)) ? { ...r, state: "overridden" } : r))
    .filter((r) => s.overwrite || r.state !== "overridden");
  return { wouldSend: Number(count?.n ?? 0) - (s.overwrite ? 0 : overridden), overridden, rows: listed, linksRead: seen.links };
}

/** Selected rows not yet known as overridden whose LMS grade, read now, a person set. */
async function overriddenInLms(db: Db, s: BackfillSelector, read: LinkReader): Promise<{ rows: Set<number>; links: number }> {
  const candidates = await rowsOf<{ id: number; link: string; user_id: string } & Fraction & { sent_given: number | null; sent_max: number | null }>(
    db,
    sql`WITH links AS (SELECT DISTINCT g.resource_link_ref FROM ${FROM} WHERE ${selected(s)} LIMIT ${PREVIEW_READ_LINKS}::int)
        SELECT g.id, g.resource_link_ref AS link, g.user_id, g.score_given AS given, g.score_maximum AS maximum,
               g.sent_score_given AS sent_given, g.sent_score_maximum AS sent_max
        FROM ${FROM} WHERE ${selected(s)} AND g.state <> 'overridden' AND g.resource_link_ref IN (SELECT resource_link_ref FROM links)`,
  );
  const out = new Set<number>();
  const byLink = new Map<string, typeof candidates>();
  for (const c of candidates) byLink.set(c.link, [...(byLink.get(c.link) ?? []), c]);
  let links = 0;
  for (const [link, rows] of byLink) {
    const lms = await read(link);
    if (!lms) continue;
    links++;
    for (const r of rows) {
      const sent = r.sent_given === null ? null : { given: Number(r.sent_given), maximum: r.sent_max === null ? null : Number(r.sent_max) };
      const current = { given: r.given === null ? null : Number(r.given), maximum: r.maximum === null ? null : Number(r.maximum) };
      if (!mayWrite(sent, current, lms.get(r.user_id)).write) out.add(Number(r.id));
    }
  }
  return { rows: out, links };
}

/**
 * The selected rows' current scores become new revisions, sent again: source `backfill`, or
 * `overwrite` (sent over a grade a person set, without Canvas's keep-the-teacher's-grade flag).
 */
export async function reviseSelected(db: Db, s: BackfillSelector): Promise<{ revised: number; contextRefs: string[] }> {
  const source = s.overwrite ? "overwrite" : "backfill";
  const rows = await rowsOf<{ context_ref: string; n: number }>(db, sql`WITH picked AS (
      SELECT g.id FROM ${FROM} WHERE ${resent(s)}
    ), u AS (
      UPDATE grade_rows g SET revision = g.revision + 1, state = 'pending', reason = NULL,
        pending_since = CASE WHEN g.state = 'pending' THEN g.pending_since ELSE now() END,
        attempts = 0, next_attempt_at = NULL, failed_at = NULL, source = ${source}::text, recorded_at = now(), updated_at = now()
      FROM picked WHERE g.id = picked.id
      RETURNING g.*
    ), audit AS (
      INSERT INTO grade_revisions (grade_row_id, revision, applied, note, source, score_given, score_maximum, comment,
        activity_progress, grading_progress, graded_at, submitted_at, started_at)
      SELECT id, revision, true, ${s.overwrite ? "overwrite" : "resend"}::text, ${source}::text, score_given, score_maximum, comment,
        activity_progress, grading_progress, graded_at, submitted_at, started_at FROM u
    )
    SELECT context_ref, count(*)::int AS n FROM u GROUP BY context_ref`);
  return { revised: rows.reduce((a, r) => a + Number(r.n), 0), contextRefs: rows.map((r) => r.context_ref) };
}

/**
 * A dry run of corrections: the entries (by index) that would land on a grade a person set — known
 * to the ledger, or seen now in the line items of the first PREVIEW_READ_LINKS links they touch.
 */
export async function overriddenCorrections(db: Db, entries: readonly ScoreEntry[], read: LinkReader): Promise<Set<number>> {
  const keys = entries.map((e, i) => ({ i, pid: e.platformId, cid: e.contextId, rid: e.resourceLinkId, u: e.userId }));
  const rows = await rowsOf<{ i: number; link: string; state: string; sent_given: number | null; sent_max: number | null }>(
    db,
    sql`SELECT x.i, rl.id AS link, g.state, g.sent_score_given AS sent_given, g.sent_score_maximum AS sent_max
        FROM jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) AS x(i int, pid text, cid text, rid text, u text)
        JOIN platforms p ON p.platform_id = x.pid JOIN contexts c ON c.platform_ref = p.id AND c.context_id = x.cid
        JOIN resource_links rl ON rl.context_ref = c.id AND rl.resource_link_id = x.rid
        JOIN grade_rows g ON g.resource_link_ref = rl.id AND g.user_id = x.u`,
  );
  const out = new Set<number>();
  const byLink = new Map<string, typeof rows>();
  for (const r of rows) {
    if (r.state === "overridden") out.add(Number(r.i));
    else byLink.set(r.link, [...(byLink.get(r.link) ?? []), r]);
  }
  for (const [link, linkRows] of [...byLink].slice(0, PREVIEW_READ_LINKS)) {
    const lms = await read(link);
    if (!lms) continue;
    for (const r of linkRows) {
      const e = entries[Number(r.i)]!;
      const sent = r.sent_given === null ? null : { given: Number(r.sent_given), maximum: r.sent_max === null ? null : Number(r.sent_max) };
      if (!mayWrite(sent, { given: e.scoreGiven ?? null, maximum: e.scoreMaximum ?? null }, lms.get(e.userId)).write) out.add(Number(r.i));
    }
  }
  return out;
}
