/**
 * GET /api/status: one entry per (platform, context, resource link), most urgent first —
 * needs_relaunch, failing (failed rows or a missing line item), pending (oldest first), ok — paged
 * with an opaque keyset cursor. Counts come from grade_counters, never from the ledger.
 */
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";
import { isPgTimestamptzText, ltiId, text } from "../validation";
import { URGENCY_RANK, URGENCY_STATES, type UrgencyState } from "./urgency";

export const statusQuerySchema = z.object({
  platformId: ltiId().optional(),
  contextId: ltiId().optional(),
  state: z.enum(URGENCY_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: text(500).optional(),
});
export type StatusQuery = z.infer<typeof statusQuerySchema>;

export interface StatusEntry {
  id: string;
  platformId: string;
  contextId: string;
  resourceLinkId: string;
  title: string | null;
  state: UrgencyState;
  key: { state: "active" | "needs_relaunch" | "missing"; lastLaunchAt: string | null };
  lineItem: { id: string | null; state: "ok" | "unresolved" | "missing" };
  scores: { pending: number; sent: number; skipped: number; failed: number };
  oldestPendingAt: string | null;
  roster: { refreshedAt: string | null; members: number; activeLearners: number };
  lastRun: { kind: string; startedAt: string; finishedAt: string | null; outcome: string } | null;
}

// The middle part goes back to Postgres as a timestamptz: only what Postgres wrote (ISO DateStyle).
const PG_TIMESTAMPTZ = /^(infinity|\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2})$/;
const cursorSchema = z.tuple([z.number().int().min(0).max(3), z.string().max(40).regex(PG_TIMESTAMPTZ).refine(isPgTimestamptzText), z.uuid()]);

export class BadCursorError extends Error {}

function decodeCursor(c: string): z.infer<typeof cursorSchema> {
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(c, "base64url").toString("utf8")));
  } catch {
    throw new BadCursorError("invalid cursor");
  }
}
const encodeCursor = (rank: number, oldest: string, id: string) => Buffer.from(JSON.stringify([rank, oldest, id])).toString("base64url");

// Ranked in SQL so the page boundary is exact; 'infinity' sorts links with nothing pending last.
// A link launched without grade services (no key) is not "needs_relaunch".
const OLDEST = sql`coalesce(CASE WHEN coalesce(gc.pending, 0) > 0 THEN gc.oldest_pending_at END, 'infinity'::timestamptz)`;

interface Row {
  id: string;
  platform_id: string;
  context_id: string;
  resource_link_id: string;
  title: string | null;
  rank: number;
  oldest_key: string;
  key_state: string | null;
  last_launch_at: Date | string | null;
  line_item_id: string | null;
  launch_line_item_id: string | null;
  line_item_state: string;
  pending: number | null;
  sent: number | null;
  skipped: number | null;
  failed: number | null;
  oldest_pending_at: Date | string | null;
  roster_refreshed_at: Date | string | null;
  roster_members: number;
  roster_active_learners: number;
  run_kind: string | null;
  run_started_at: Date | string | null;
  run_finished_at: Date | string | null;
  run_outcome: string | null;
}

const iso = (d: Date | string | null) => (d === null || d === undefined ? null : new Date(d).toISOString());

export async function listStatus(db: Db, q: StatusQuery): Promise<{ contexts: StatusEntry[]; next?: string }> {
  const after = q.cursor ? decodeCursor(q.cursor) : undefined;
  const filters = [
    q.platformId !== undefined ? sql`AND p.platform_id = ${q.platformId}::text` : sql``,
    q.contextId !== undefined ? sql`AND c.context_id = ${q.contextId}::text` : sql``,
    q.state !== undefined ? sql`AND ranked.rank = ${URGENCY_STATES.indexOf(q.state)}::int` : sql``,
    after ? sql`AND (ranked.rank, ranked.oldest_key, ranked.id) > (${after[0]}::int, ${after[1]}::timestamptz, ${after[2]}::uuid)` : sql``,
  ];
  const rows = await rowsOf<Row>(db, sql`SELECT ranked.id, ranked.rank, ranked.oldest_key::text AS oldest_key, p.platform_id, c.context_id, coalesce(rl.title, c.title) AS title,
        rl.resource_link_id, rl.line_item_id, rl.launch_line_item_id, rl.line_item_state,
        sk.state AS key_state, sk.last_launch_at, gc.pending, gc.sent, gc.skipped, gc.failed, gc.oldest_pending_at,
        c.roster_refreshed_at, c.roster_members, c.roster_active_learners,
        r.kind AS run_kind, r.started_at AS run_started_at, r.finished_at AS run_finished_at, r.outcome AS run_outcome
      FROM (SELECT rl.id, (${URGENCY_RANK}) AS rank, (${OLDEST}) AS oldest_key
            FROM resource_links rl LEFT JOIN service_keys sk ON sk.resource_link_ref = rl.id
            LEFT JOIN grade_counters gc ON gc.resource_link_ref = rl.id) ranked
      JOIN resource_links rl ON rl.id = ranked.id
      JOIN contexts c ON c.id = rl.context_ref JOIN platforms p ON p.id = c.platform_ref
      LEFT JOIN service_keys sk ON sk.resource_link_ref = rl.id
      LEFT JOIN grade_counters gc ON gc.resource_link_ref = rl.id
      LEFT JOIN sync_runs r ON r.id = gc.last_run_id
      WHERE true ${sql.join(filters, sql` `)}
      ORDER BY ranked.rank, ranked.oldest_key, ranked.id
      LIMIT ${q.limit + 1}::int`);

  const page = rows.slice(0, q.limit);
  const contexts = page.map((r): StatusEntry => ({
    id: r.id,
    platformId: r.platform_id,
    contextId: r.context_id,
    resourceLinkId: r.resource_link_id,
    title: r.title,
    state: URGENCY_STATES[Number(r.rank)],
    key: { state: (r.key_state ?? "missing") as StatusEntry["key"]["state"], lastLaunchAt: iso(r.last_launch_at) },
    lineItem: {
      id: r.line_item_id ?? r.launch_line_item_id,
      state: (["ok", "unresolved", "missing"] as const).find((s) => s === r.line_item_state) ?? "unresolved",
    },
    scores: { pending: Number(r.pending ?? 0), sent: Number(r.sent ?? 0), skipped: Number(r.skipped ?? 0), failed: Number(r.failed ?? 0) },
    oldestPendingAt: Number(r.pending ?? 0) > 0 ? iso(r.oldest_pending_at) : null,
    roster: { refreshedAt: iso(r.roster_refreshed_at), members: Number(r.roster_members), activeLearners: Number(r.roster_active_learners) },
    lastRun: r.run_kind
      ? { kind: r.run_kind, startedAt: iso(r.run_started_at)!, finishedAt: iso(r.run_finished_at), outcome: r.run_outcome! }
      : null,
  }));
  const last = page.at(-1);
  return rows.length > q.limit && last ? { contexts, next: encodeCursor(Number(last.rank), String(last.oldest_key), last.id) } : { contexts };
}
