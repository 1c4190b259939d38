/**
 * The operator's dashboard: every (platform, context, resource link) most urgent first — a key
 * that needs a relaunch, then failing rows or a missing column, then the oldest pending — read from
 * the trigger-kept counters so the page never scans the ledger; recent runs; throughput per day
 * from the runs' own counts; and one score's whole story for the search box.
 */
import { sql } from "drizzle-orm";
import { z } from "zod";
import { text } from "../validation";
import type { Db } from "../db/client";
import { countByState, listLinks, type LinkState } from "../links/state";
import { URGENCY_STATES, type UrgencyState } from "../links/urgency";
import { rowsOf, toDate, toNullableNumber, toNumber } from "../db/rows";
import { lastUtcDays } from "./rows";
import { runFromRaw, type RunRow } from "./teacher";

export const ADMIN_STATES = URGENCY_STATES;
export type AdminState = UrgencyState;
export const adminStateSchema = z.enum(ADMIN_STATES);

export const ADMIN_PAGE_SIZE = 50;

export interface AdminList {
  entries: LinkState[];
  page: number;
  pageSize: number;
  /** Entries matching the filter. */
  total: number;
  pages: number;
  /** Entries per state over everything (for the filter's labels). */
  byState: Record<AdminState, number>;
}

/** Every link, most urgent first (the links read model: the order /api/status pages by too). */
export async function adminList(db: Db, input: { state?: AdminState | null; page?: number; pageSize?: number } = {}): Promise<AdminList> {
  const pageSize = Math.min(Math.max(input.pageSize ?? ADMIN_PAGE_SIZE, 1), 500);
  const byState = await countByState(db);
  const total = input.state ? byState[input.state] : Object.values(byState).reduce((a, b) => a + b, 0);
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const page = Math.min(Math.max(1, Math.floor(input.page ?? 1)), pages);
  const { links } = await listLinks(db, { state: input.state ?? undefined }, { page, pageSize });
  return { entries: links, page, pageSize, total, pages, byState };
}

export async function recentRuns(db: Db, limit = 10): Promise<RunRow[]> {
  const raw = await rowsOf<Parameters<typeof runFromRaw>[0]>(
    db,
    sql`SELECT id, kind, trigger, outcome, started_at, finished_at, counts FROM sync_runs ORDER BY started_at DESC LIMIT ${limit}::int`,
  );
  return raw.map(runFromRaw);
}

export interface ThroughputDay {
  day: string;
  sent: number;
  skipped: number;
  failed: number;
  runs: number;
}

/** Scores sent, skipped and failed per UTC day, from the runs' counts (small table, no ledger scan). */
export async function throughput(db: Db, input: { days?: number; now?: Date } = {}): Promise<ThroughputDay[]> {
  const { start, days } = lastUtcDays(input.days ?? 14, input.now);
  const raw = await rowsOf<{ day: string; sent: number | string; skipped: number | string; failed: number | string; runs: number | string }>(
    db,
    sql`SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
               sum(coalesce((counts->>'sent')::int, 0)) AS sent, sum(coalesce((counts->>'skipped')::int, 0)) AS skipped,
               sum(coalesce((counts->>'failed')::int, 0)) AS failed, count(*) AS runs
        FROM sync_runs WHERE started_at >= ${start.toISOString()}::timestamptz AND kind IN ('push-grades', 'retry-failed', 'backfill')
        GROUP BY 1`,
  );
  const byDay = new Map(raw.map((r) => [r.day, r]));
  return days.map((day) => {
    const r = byDay.get(day);
    return { day, sent: toNumber(r?.sent), skipped: toNumber(r?.skipped), failed: toNumber(r?.failed), runs: toNumber(r?.runs) };
  });
}

// ─── search and a score's story ─────────────────────────────────────────────────────────────────

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
  /** How the query matched: a delivery id, a user id, or nothing. */
  matched: "delivery" | "user" | "none";
  /** The delivery's receipt; null for a user, or for a delivery older than its retention. */
  delivery: { id: string; accepted: number; receivedAt: Date } | null;
  stories: ScoreStory[];
  /** More rows matched than are shown. */
  truncated: boolean;
}

export const SEARCH_LIMIT = 20;
export const searchQuerySchema = z.string().trim().min(1).pipe(text(1024));

/** A delivery id (webhook) first, else an LMS user id: each matching score with its whole story. */
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
  const truncated = rowIds.length > SEARCH_LIMIT;
  const ids = rowIds.slice(0, SEARCH_LIMIT).map((r) => toNumber(r.id));
  const stories = await scoreStories(db, ids);
  return {
    query: q,
    matched,
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
