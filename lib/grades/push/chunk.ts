/**
 * One chunk of a link being sent: its claim (up to 100 due rows, their revisions read in the same
 * statement: a lease, no transaction held), what every attempt of it shares, and its leases — renewed
 * together, in one statement, before a request would leave on a lease past half its life.
 */
import { sql } from "drizzle-orm";
import { rowsOf } from "../../db/rows";
import { sleep } from "../../ltiaas/gate";
import type { ScoreColumns } from "../score";
import type { Fraction } from "../truth";
import type { PushDeps } from "./deps";
import type { LinkRow } from "./links";
import { DUE, release, type SentRecorder } from "./record";

export interface ChunkResult {
  claimed: number;
  sent: number;
  skipped: number;
  failed: number;
  /** Rows left pending to be retried later (rate limits, 5xx, ordering). */
  retry: number;
  /** Rows not sent because the LMS holds a grade a person set there. */
  overridden: number;
  /** Requests that never reached LTIAAS (connection refused, no such host). */
  unreachable: number;
  /** The link cannot be pushed any more in this run. */
  stop?: "needs_relaunch" | "missing" | "unresolved";
  /** A 404 moved the link to another line item. */
  lineItemId?: string;
  /** Rows due right now remain (send another chunk). */
  more: boolean;
  /** No row due now, but one will be in this many ms. */
  waitMs: number | null;
  /** The platform is rate limited for this long (Inngest retries the step with RetryAfterError). */
  retryAfterMs?: number;
}

/** A claimed row with the revision read when it was claimed, and what was last sent of it. */
export type Claimed = ScoreColumns & {
  id: number;
  user_id: string;
  revision: number;
  grade_sent: boolean;
  source: string;
  submitted_at: Date | string;
  started_at: Date | string | null;
  sent_score_given: number | null;
  sent_score_maximum: number | null;
  sent_submitted_at: Date | string | null;
  /** A revision a previous run was sending when its lease ran out (it may have reached the LMS). */
  unanswered: number | null;
};

/** One chunk being sent: what every attempt shares. */
export interface Chunk {
  deps: PushDeps;
  token: string;
  link: LinkRow;
  auth: { serviceKey: string };
  lineItemId: string;
  result: ChunkResult;
  sent: SentRecorder;
  /** Set by the first answer that stops the link; the chunk's other rows are handed back unsent. */
  stop?: { kind: "needs_relaunch"; code: string } | { kind: "not_found" };
  /** A platform hold (Retry-After) was met: the step reports how long it lasts. */
  held: boolean;
  /** Rows still leased to this chunk (not yet answered or handed back). */
  leased: Set<number>;
  /** When the chunk's leases were last set (claim or renewal). */
  leasedAt: number;
  /** A renewal under way: concurrent attempts share it. */
  renewing?: Promise<void>;
}

export async function claim(deps: PushDeps, linkRef: string, token: string, limit: number): Promise<Claimed[]> {
  const rows = await rowsOf<Claimed>(
    deps.db,
    sql`UPDATE grade_rows g SET lease_token = ${token}::text, lease_until = now() + make_interval(secs => ${deps.leaseMs / 1000}::float8),
          lease_revision = g.revision
        FROM (SELECT id, lease_revision AS unanswered FROM grade_rows WHERE resource_link_ref = ${linkRef}::uuid AND ${DUE}
              ORDER BY id LIMIT ${limit}::int FOR UPDATE SKIP LOCKED) c
        WHERE g.id = c.id
        RETURNING g.id, g.user_id, g.revision, g.score_given, g.score_maximum, g.comment, g.activity_progress, g.grading_progress,
          g.grade_sent, g.source, g.submitted_at, g.started_at, g.sent_score_given, g.sent_score_maximum, g.sent_submitted_at,
          c.unanswered`,
  );
  // node-postgres answers bigint as text (and PGlite doubles may come as text from some paths).
  return rows.map((r) => ({
    ...r,
    id: Number(r.id),
    revision: Number(r.revision),
    sent_score_given: r.sent_score_given === null ? null : Number(r.sent_score_given),
    sent_score_maximum: r.sent_score_maximum === null ? null : Number(r.sent_score_maximum),
    unanswered: r.unanswered === null ? null : Number(r.unanswered),
  }));
}

/**
 * Right before a request leaves: is the row still this chunk's, on a lease that will outlive the
 * request? A lease older than half its life is renewed — for every row the chunk still holds, in one
 * statement — since it may run out while the request is out and another run must not claim the row
 * meanwhile. Still holding the token means nobody claimed it (a claim replaces the token). A hold
 * (Retry-After) is waited out before renewing, never after: a renewed lease spent sleeping could run
 * out before the request. Answers "handed_back" when the platform is held longer than this run waits.
 */
export async function readyToSend(c: Chunk, rowId: number): Promise<"ok" | "handed_back" | "lost"> {
  const { deps, link } = c;
  for (;;) {
    const heldFor = deps.gate.heldUntil(link.platform_id) - Date.now();
    if (heldFor > deps.maxHoldWaitMs) return "handed_back";
    if (heldFor > 0) await sleep(heldFor);
    if (Date.now() - c.leasedAt > deps.leaseMs / 2) await renewLeases(c);
    if (!c.leased.has(rowId)) return "lost";
    // A Retry-After that came back while the leases were renewed holds this row too: wait, check again.
    if (deps.gate.heldUntil(link.platform_id) <= Date.now()) return "ok";
  }
}

async function renewLeases(c: Chunk): Promise<void> {
  c.renewing ??= (async () => {
    const startedAt = Date.now();
    const ids = [...c.leased];
    const kept = await rowsOf<{ id: number }>(
      c.deps.db,
      sql`UPDATE grade_rows SET lease_until = now() + make_interval(secs => ${c.deps.leaseMs / 1000}::float8)
          WHERE id IN (SELECT (jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))::bigint) AND lease_token = ${c.token}::text
          RETURNING id`,
    );
    const still = new Set(kept.map((r) => Number(r.id)));
    for (const id of ids) if (!still.has(id)) c.leased.delete(id);
    c.leasedAt = startedAt;
  })().finally(() => (c.renewing = undefined));
  await c.renewing;
}

/**
 * The platform is held longer than this run waits: the row is due again when the hold ends — or at
 * once when the hold is only this process's finding (LTIAAS unreachable): the row was never tried,
 * and a run elsewhere, or later, may find LTIAAS back.
 */
export async function handBack(c: Chunk, rowId: number) {
  const { gate } = c.deps;
  c.held = true;
  c.result.retry++;
  c.leased.delete(rowId);
  await release(c.deps.db, rowId, c.token, gate.holdIsLocal(c.link.platform_id) ? undefined : new Date(gate.heldUntil(c.link.platform_id)));
}

export async function giveBack(c: Chunk, rowId: number) {
  c.leased.delete(rowId);
  await release(c.deps.db, rowId, c.token);
}

export const sentOf = (row: Claimed): Fraction | null => (row.sent_score_given === null ? null : { given: row.sent_score_given, maximum: row.sent_score_maximum });
export const fractionOf = (row: Claimed): Fraction => ({ given: row.score_given === null ? null : Number(row.score_given), maximum: row.score_maximum === null ? null : Number(row.score_maximum) });
