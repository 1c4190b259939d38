/**
 * /admin's search: a webhook delivery id, an LMS user id, or a person's name or e-mail (from
 * launches and rosters), answered with each matching score's whole story — the revisions recorded,
 * every request sent and the LMS's answer, and where the row stands.
 */
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { rowsOf, toDate, toNullableNumber, toNumber } from "../db/rows";
import { text } from "../validation";

export interface ScoreStory {
  row: {
    id: number;
    linkRef: string;
    platformId: string;
    contextId: string;
    resourceLinkId: string;
    title: string | null;
    userId: string;
    userName: string | null;
    state: string;
    reason: string | null;
    revision: number;
    sentRevision: number | null;
    scoreGiven: number | null;
    scoreMaximum: number | null;
    lastSentAt: Date | null;
  };
  /** Every score recorded for this row, oldest first (applied or not). */
  revisions: {
    id: number;
    revision: number | null;
    applied: boolean;
    note: string | null;
    source: string;
    deliveryId: string | null;
    scoreGiven: number | null;
    scoreMaximum: number | null;
    gradingProgress: string;
    gradedAt: Date;
    recordedAt: Date;
  }[];
  /** Every request sent (or decided without sending) and the LMS's answer, oldest first. */
  attempts: { id: number; runId: string | null; revision: number; httpStatus: number | null; outcome: string; latencyMs: number | null; errorCode: string | null; at: Date }[];
}

export interface SearchResult {
  query: string;
  /** How the query matched: a delivery id, a user id, a person's name or e-mail, or nothing. */
  matched: "delivery" | "user" | "person" | "none";
  /** People whose name or e-mail matched (at most SEARCH_LIMIT), with or without scores. */
  people: { platformId: string; userId: string; name: string | null; email: string | null }[];
  /** The delivery's receipt; null for a user, or for a delivery older than its retention. */
  delivery: { id: string; accepted: number; receivedAt: Date } | null;
  stories: ScoreStory[];
  /** More rows matched than are shown. */
  truncated: boolean;
}

export const SEARCH_LIMIT = 20;
export const searchQuerySchema = z.string().trim().min(1).pipe(text(1024));

/** `%`, `_` and `\\` taken literally in a LIKE pattern. */
const likeLiteral = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * A delivery id (webhook) first, else an LMS user id, else a part of a person's name or e-mail
 * (case-insensitive): each matching score with its whole story.
 */
export async function searchScores(db: Db, query: string): Promise<SearchResult> {
  const q = searchQuerySchema.parse(query);
  const [delivery] = await rowsOf<{ id: string; accepted: number; received_at: Date | string }>(
    db,
    sql`SELECT id, accepted, received_at FROM webhook_deliveries WHERE id = ${q}::text`,
  );
  // Looked up in the revisions even without the delivery's row: those are pruned after 35 days
  // (lib/grades/deliveries), the revisions that name the delivery are not.
  let rowIds = await rowsOf<{ id: number | string }>(
    db,
    sql`SELECT DISTINCT grade_row_id AS id FROM grade_revisions WHERE delivery_id = ${q}::text ORDER BY 1 LIMIT ${SEARCH_LIMIT + 1}::int`,
  );
  let matched: SearchResult["matched"] = delivery || rowIds.length ? "delivery" : "none";
  if (matched === "none") {
    rowIds = await rowsOf<{ id: number | string }>(
      db,
      sql`SELECT id FROM grade_rows WHERE user_id = ${q}::text ORDER BY id LIMIT ${SEARCH_LIMIT + 1}::int`,
    );
    if (rowIds.length) matched = "user";
  }
  let people: SearchResult["people"] = [];
  if (matched === "none") {
    const pattern = `%${likeLiteral(q.toLowerCase())}%`;
    const found = await rowsOf<{ platform_ref: string; platform_id: string; user_id: string; name: string | null; email: string | null }>(
      db,
      sql`SELECT u.platform_ref, p.platform_id, u.user_id, u.name, u.email FROM users u JOIN platforms p ON p.id = u.platform_ref
          WHERE lower(u.name) LIKE ${pattern}::text OR lower(u.email) LIKE ${pattern}::text
          ORDER BY lower(coalesce(u.name, u.email)), u.user_id LIMIT ${SEARCH_LIMIT}::int`,
    );
    people = found.map((u) => ({ platformId: u.platform_id, userId: u.user_id, name: u.name, email: u.email }));
    if (found.length) {
      matched = "person";
      const keys = JSON.stringify(found.map((u) => ({ p: u.platform_ref, u: u.user_id })));
      rowIds = await rowsOf<{ id: number | string }>(
        db,
        sql`SELECT g.id FROM jsonb_to_recordset(${keys}::jsonb) AS k(p uuid, u text)
            JOIN grade_rows g ON g.platform_ref = k.p AND g.user_id = k.u ORDER BY g.id LIMIT ${SEARCH_LIMIT + 1}::int`,
      );
    }
  }
  const truncated = rowIds.length > SEARCH_LIMIT;
  const ids = rowIds.slice(0, SEARCH_LIMIT).map((r) => toNumber(r.id));
  const stories = await scoreStories(db, ids);
  return {
    query: q,
    matched,
    people,
    delivery: delivery ? { id: delivery.id, accepted: delivery.accepted, receivedAt: toDate(delivery.received_at)! } : null,
    stories,
    truncated,
  };
}

async function scoreStories(db: Db, rowIds: number[]): Promise<ScoreStory[]> {
  if (!rowIds.length) return [];
  const list = JSON.stringify(rowIds);
  const rows = await rowsOf<{
    id: number | string; link_ref: string; platform_id: string; context_id: string; resource_link_id: string; title: string | null;
    user_id: string; user_name: string | null; state: string; reason: string | null; revision: number; sent_revision: number | null;
    score_given: number | string | null; score_maximum: number | string | null; last_sent_at: Date | string | null;
  }>(
    db,
    sql`SELECT g.id, g.resource_link_ref AS link_ref, p.platform_id, c.context_id, rl.resource_link_id, coalesce(rl.title, c.title) AS title,
               g.user_id, u.name AS user_name, g.state, g.reason, g.revision, g.sent_revision, g.score_given, g.score_maximum, g.last_sent_at
        FROM grade_rows g JOIN resource_links rl ON rl.id = g.resource_link_ref JOIN contexts c ON c.id = rl.context_ref
        JOIN platforms p ON p.id = c.platform_ref LEFT JOIN users u ON u.platform_ref = p.id AND u.user_id = g.user_id
        WHERE g.id IN (SELECT (jsonb_array_elements_text(${list}::jsonb))::bigint) ORDER BY g.id`,
  );
  const revisions = await rowsOf<{
    id: number | string; grade_row_id: number | string; revision: number | null; applied: boolean; note: string | null; source: string;
    delivery_id: string | null; score_given: number | string | null; score_maximum: number | string | null; grading_progress: string;
    graded_at: Date | string; recorded_at: Date | string;
  }>(
    db,
    sql`SELECT id, grade_row_id, revision, applied, note, source, delivery_id, score_given, score_maximum, grading_progress, graded_at, recorded_at
        FROM grade_revisions WHERE grade_row_id IN (SELECT (jsonb_array_elements_text(${list}::jsonb))::bigint) ORDER BY id`,
  );
  const attempts = await rowsOf<{
    id: number | string; grade_row_id: number | string; run_id: string | null; revision: number; http_status: number | null; outcome: string;
    latency_ms: number | null; error_code: string | null; at: Date | string;
  }>(
    db,
    sql`SELECT id, grade_row_id, run_id, revision, http_status, outcome, latency_ms, error_code, at
        FROM sync_attempts WHERE grade_row_id IN (SELECT (jsonb_array_elements_text(${list}::jsonb))::bigint) ORDER BY id`,
  );
  return rows.map((r) => {
    const id = toNumber(r.id);
    return {
      row: {
        id,
        linkRef: r.link_ref,
        platformId: r.platform_id,
        contextId: r.context_id,
        resourceLinkId: r.resource_link_id,
        title: r.title,
        userId: r.user_id,
        userName: r.user_name,
        state: r.state,
        reason: r.reason,
        revision: r.revision,
        sentRevision: r.sent_revision,
        scoreGiven: toNullableNumber(r.score_given),
        scoreMaximum: toNullableNumber(r.score_maximum),
        lastSentAt: toDate(r.last_sent_at),
      },
      revisions: revisions
        .filter((v) => toNumber(v.grade_row_id) === id)
        .map((v) => ({
          id: toNumber(v.id),
          revision: v.revision,
          applied: v.applied,
          note: v.note,
          source: v.source,
          deliveryId: v.delivery_id,
          scoreGiven: toNullableNumber(v.score_given),
          scoreMaximum: toNullableNumber(v.score_maximum),
          gradingProgress: v.grading_progress,
          gradedAt: toDate(v.graded_at)!,
          recordedAt: toDate(v.recorded_at)!,
        })),
      attempts: attempts
        .filter((a) => toNumber(a.grade_row_id) === id)
        .map((a) => ({
          id: toNumber(a.id),
          runId: a.run_id,
          revision: a.revision,
          httpStatus: a.http_status,
          outcome: a.outcome,
          latencyMs: a.latency_ms,
          errorCode: a.error_code,
          at: toDate(a.at)!,
        })),
    };
  });
}
