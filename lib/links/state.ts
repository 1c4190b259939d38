/**
 * One read model of a resource link's sync state — its course and LMS, key, line item, ledger counts
 * (from the trigger-kept counters, never a scan of the ledger), pause, drift, roster and last run,
 * ranked by urgency — used by /api/status, /admin and the teacher's page alike. One statement reads
 * a page of links (keyset after a cursor, or a page number) or a single link.
 */
import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf, toDate, toNumber, UUID } from "../db/rows";
import { OLDEST_PENDING, URGENCY_RANK, URGENCY_STATES, type UrgencyState } from "./urgency";

export interface LinkState {
  /** Gradesync's id for the triple (`/contexts/<id>`, `/api/status` entries). */
  id: string;
  contextRef: string;
  state: UrgencyState;
  /** The resource link's title, else the course's. */
  title: string | null;
  resourceLinkId: string;
  launchLineItemId: string | null;
  course: { id: string; contextId: string; title: string | null; label: string | null };
  platform: { platformId: string; name: string | null; url: string | null; productFamilyCode: string | null; paused: boolean };
  key: { state: "active" | "needs_relaunch" | "missing"; lastLaunchAt: Date | null; capturedAt: Date | null; stateReason: string | null };
  lineItem: { id: string | null; state: "ok" | "unresolved" | "missing"; checkedAt: Date | null };
  counts: { pending: number; sent: number; skipped: number; failed: number; overridden: number; oldestPendingAt: Date | null };
  /** The link or its platform is paused (its rows wait, counted as pending). */
  paused: boolean;
  /** Paused by the teacher (the link itself), when. */
  pausedAt: Date | null;
  /** The last reconcile's read-back (checkedAt null until one ran). */
  drift: { checkedAt: Date | null; inSync: number; differs: number; missing: number };
  roster: { refreshedAt: Date | null; members: number; activeLearners: number };
  lastRun: { kind: string; outcome: string; startedAt: Date; finishedAt: Date | null } | null;
}

interface Raw {
  id: string;
  context_ref: string;
  rank: number;
  oldest_key: string;
  failed_key: number;
  link_title: string | null;
  context_title: string | null;
  context_label: string | null;
  context_id: string;
  resource_link_id: string;
  launch_line_item_id: string | null;
  line_item_id: string | null;
  line_item_state: string;
  line_item_checked_at: Date | string | null;
  platform_id: string;
  platform_name: string | null;
  platform_url: string | null;
  product_family_code: string | null;
  link_paused_at: Date | string | null;
  platform_paused_at: Date | string | null;
  key_state: string | null;
  last_launch_at: Date | string | null;
  captured_at: Date | string | null;
  state_reason: string | null;
  pending: number | null;
  sent: number | null;
  skipped: number | null;
  failed: number | null;
  overridden: number | null;
  oldest_pending_at: Date | string | null;
  drift_checked_at: Date | string | null;
  drift_in_sync: number;
  drift_differs: number;
  drift_missing: number;
  roster_refreshed_at: Date | string | null;
  roster_members: number;
  roster_active_learners: number;
  run_kind: string | null;
  run_outcome: string | null;
  run_started_at: Date | string | null;
  run_finished_at: Date | string | null;
}

/** Within a state and age, more failed rows first (an ascending key, for the keyset cursor). */
const FEWER_FAILED = sql`(-coalesce(gc.failed, 0))`;

const SELECT = sql`SELECT rl.id, rl.context_ref, ${URGENCY_RANK} AS rank, (${OLDEST_PENDING})::text AS oldest_key, ${FEWER_FAILED} AS failed_key,
    rl.title AS link_title, c.title AS context_title, c.label AS context_label, c.context_id, rl.resource_link_id,
    rl.launch_line_item_id, rl.line_item_id, rl.line_item_state, rl.line_item_checked_at,
    p.platform_id, p.name AS platform_name, p.url AS platform_url, p.product_family_code,
    rl.paused_at AS link_paused_at, p.paused_at AS platform_paused_at,
    sk.state AS key_state, sk.last_launch_at, sk.captured_at, sk.state_reason,
    gc.pending, gc.sent, gc.skipped, gc.failed, gc.overridden, gc.oldest_pending_at,
    rl.drift_checked_at, rl.drift_in_sync, rl.drift_differs, rl.drift_missing,
    c.roster_refreshed_at, c.roster_members, c.roster_active_learners,
    r.kind AS run_kind, r.outcome AS run_outcome, r.started_at AS run_started_at, r.finished_at AS run_finished_at
  FROM resource_links rl
  JOIN contexts c ON c.id = rl.context_ref JOIN platforms p ON p.id = c.platform_ref
  LEFT JOIN service_keys sk ON sk.resource_link_ref = rl.id
  LEFT JOIN grade_counters gc ON gc.resource_link_ref = rl.id
  LEFT JOIN sync_runs r ON r.id = gc.last_run_id`;

function stateOf(r: Raw): LinkState {
  const pending = toNumber(r.pending);
  return {
    id: r.id,
    contextRef: r.context_ref,
    state: URGENCY_STATES[Number(r.rank)],
    title: r.link_title ?? r.context_title,
    resourceLinkId: r.resource_link_id,
    launchLineItemId: r.launch_line_item_id,
    course: { id: r.context_ref, contextId: r.context_id, title: r.context_title, label: r.context_label },
    platform: { platformId: r.platform_id, name: r.platform_name, url: r.platform_url, productFamilyCode: r.product_family_code, paused: r.platform_paused_at !== null },
    key: r.key_state
      ? { state: r.key_state as "active" | "needs_relaunch", lastLaunchAt: toDate(r.last_launch_at), capturedAt: toDate(r.captured_at), stateReason: r.state_reason }
      : { state: "missing", lastLaunchAt: null, capturedAt: null, stateReason: null },
    lineItem: {
      id: r.line_item_id ?? r.launch_line_item_id,
      state: (["ok", "unresolved", "missing"] as const).find((s) => s === r.line_item_state) ?? "unresolved",
      checkedAt: toDate(r.line_item_checked_at),
    },
    counts: {
      pending,
      sent: toNumber(r.sent),
      skipped: toNumber(r.skipped),
      failed: toNumber(r.failed),
      overridden: toNumber(r.overridden),
      oldestPendingAt: pending > 0 ? toDate(r.oldest_pending_at) : null,
    },
    paused: r.link_paused_at !== null || r.platform_paused_at !== null,
    pausedAt: toDate(r.link_paused_at),
    drift: { checkedAt: toDate(r.drift_checked_at), inSync: toNumber(r.drift_in_sync), differs: toNumber(r.drift_differs), missing: toNumber(r.drift_missing) },
    roster: { refreshedAt: toDate(r.roster_refreshed_at), members: toNumber(r.roster_members), activeLearners: toNumber(r.roster_active_learners) },
    lastRun:
      r.run_kind && r.run_started_at
        ? { kind: r.run_kind, outcome: r.run_outcome ?? "running", startedAt: toDate(r.run_started_at)!, finishedAt: toDate(r.run_finished_at) }
        : null,
  };
}

/** One link's state; null for an id that names none. */
export async function getLink(db: Db, id: string): Promise<LinkState | null> {
  if (!UUID.test(id)) return null;
  const [r] = await rowsOf<Raw>(db, sql`${SELECT} WHERE rl.id = ${id}::uuid`);
  return r ? stateOf(r) : null;
}

export interface LinkFilter {
  platformId?: string;
  contextId?: string;
  state?: UrgencyState;
  /** Only links with rows a person set in the LMS (`overridden`) or drift (`differs`/`missing`) at the last reconcile. */
  changed?: boolean;
}

/** A link whose LMS a person changed by hand, or whose last reconcile found drift (counters and link columns: no scan). */
export const CHANGED_IN_LMS = sql`(coalesce(gc.overridden, 0) > 0 OR rl.drift_differs > 0 OR rl.drift_missing > 0)`;

/** A link's place in the urgency order: (rank, oldest pending, fewer failed, id). */
export type LinkKey = [number, string, number, string];

/** Where a page of the urgency order starts: after a cursor's key, or a page number. */
export type LinkPaging = { after?: LinkKey; limit: number } | { page: number; pageSize: number };

export interface LinkPage {
  links: LinkState[];
  /** The keyset of the page's last link (a cursor to continue after it). */
  lastKey?: LinkKey;
  /** More links follow this page. */
  more: boolean;
}

const filtersOf = (f: LinkFilter): SQL[] => [
  f.platformId !== undefined ? sql`AND p.platform_id = ${f.platformId}::text` : sql``,
  f.contextId !== undefined ? sql`AND c.context_id = ${f.contextId}::text` : sql``,
  f.state !== undefined ? sql`AND ${URGENCY_RANK} = ${URGENCY_STATES.indexOf(f.state)}::int` : sql``,
  f.changed ? sql`AND ${CHANGED_IN_LMS}` : sql``,
];

/** Links most urgent first (needs a relaunch, failing, the oldest pending, ok), filtered and paged. */
export async function listLinks(db: Db, filter: LinkFilter, paging: LinkPaging): Promise<LinkPage> {
  const limit = "limit" in paging ? paging.limit : paging.pageSize;
  const a = "after" in paging ? paging.after : undefined;
  const after = a
    ? sql`AND (${URGENCY_RANK}, ${OLDEST_PENDING}, ${FEWER_FAILED}, rl.id) > (${a[0]}::int, ${a[1]}::timestamptz, ${a[2]}::int, ${a[3]}::uuid)`
    : sql``;
  const offset = "page" in paging ? (paging.page - 1) * paging.pageSize : 0;
  const rows = await rowsOf<Raw>(
    db,
    sql`${SELECT} WHERE true ${sql.join(filtersOf(filter), sql` `)} ${after}
        ORDER BY 3, ${OLDEST_PENDING}, 5, rl.id LIMIT ${limit + 1}::int OFFSET ${offset}::int`,
  );
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { links: page.map(stateOf), more: rows.length > limit, lastKey: last ? [Number(last.rank), last.oldest_key, Number(last.failed_key), last.id] : undefined };
}

/** Links per urgency state (with the filter's platform and course, not its state). */
export async function countByState(db: Db, filter: Omit<LinkFilter, "state"> = {}): Promise<Record<UrgencyState, number>> {
  const rows = await rowsOf<{ rank: number; n: number | string }>(
    db,
    sql`SELECT ${URGENCY_RANK} AS rank, count(*) AS n FROM resource_links rl
        JOIN contexts c ON c.id = rl.context_ref JOIN platforms p ON p.id = c.platform_ref
        LEFT JOIN service_keys sk ON sk.resource_link_ref = rl.id
        LEFT JOIN grade_counters gc ON gc.resource_link_ref = rl.id
        WHERE true ${sql.join(filtersOf(filter), sql` `)} GROUP BY 1`,
  );
  const out = Object.fromEntries(URGENCY_STATES.map((s) => [s, 0])) as Record<UrgencyState, number>;
  for (const r of rows) out[URGENCY_STATES[Number(r.rank)]] = toNumber(r.n);
  return out;
}
