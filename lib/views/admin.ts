/**
 * The operator's dashboard: every (platform, context, resource link) most urgent first — a key
 * that needs a relaunch, then failing rows or a missing column, then the oldest pending — read from
 * the trigger-kept counters so the page never scans the ledger; recent runs; throughput per day
 * from the runs' own counts. The search box's stories are in ./admin-search, the platforms table in
 * ./platforms, a link's detail view in ./link-detail.
 */
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { countByState, listLinks, type LinkState } from "../links/state";
import { URGENCY_STATES, type UrgencyState } from "../links/urgency";
import { rowsOf, toNumber } from "../db/rows";
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
  /** Entries per state (for the filter's labels), within the `changed` filter when it is on. */
  byState: Record<AdminState, number>;
  /** Links with rows a person set in the LMS or drift, in every state (the filter's label). */
  changed: number;
}

/** Every link, most urgent first (the links read model: the order /api/status pages by too). */
export async function adminList(
  db: Db,
  input: { state?: AdminState | null; changed?: boolean; page?: number; pageSize?: number } = {},
): Promise<AdminList> {
  const pageSize = Math.min(Math.max(input.pageSize ?? ADMIN_PAGE_SIZE, 1), 500);
  const changedByState = await countByState(db, { changed: true });
  const changed = sum(changedByState);
  const byState = input.changed ? changedByState : await countByState(db);
  const total = input.state ? byState[input.state] : sum(byState);
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const page = Math.min(Math.max(1, Math.floor(input.page ?? 1)), pages);
  const { links } = await listLinks(db, { state: input.state ?? undefined, changed: input.changed }, { page, pageSize });
  return { entries: links, page, pageSize, total, pages, byState, changed };
}

const sum = (byState: Record<AdminState, number>) => Object.values(byState).reduce((a, b) => a + b, 0);

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

export { searchQuerySchema, searchScores, SEARCH_LIMIT, type ScoreStory, type SearchResult } from "./admin-search";
