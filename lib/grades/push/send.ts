/**
 * Sending one chunk of a link: claim up to 100 due rows and read their revisions in the same
 * statement (a lease, no transaction held), send each through the platform's gate, and record every
 * answer afterwards (sent ones in batches). A revision recorded after the claim leaves its row
 * pending for the next push. The chunk's leases are renewed together, in one statement, before a
 * request would leave on a lease older than half its life. A crash at any point leaves rows pending
 * (their lease expires); only a revision whose answer was never recorded can be sent again.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { SealError } from "../../crypto/seal";
import { rowsOf } from "../../db/rows";
import { LtiaasError } from "../../ltiaas/errors";
import { sleep } from "../../ltiaas/gate";
import { markKeyNeedsRelaunch } from "../../service-keys";
import { reresolveAfterNotFound } from "../line-items";
import { agsScore, isGrade, scoreOfRow, type LedgerScore, type ScoreColumns } from "../score";
import { CHUNK_SIZE, type PushDeps } from "./deps";
import { gatedClient, linkInfo, loadLinks, serviceAuth, type LinkRow } from "./links";
import { outcomeOf } from "./outcome";
import { DUE, nextDue, recordReleased, recordRetry, recordSkipped, release, SentRecorder } from "./record";

export interface ChunkResult {
  claimed: number;
  sent: number;
  skipped: number;
  failed: number;
  /** Rows left pending to be retried later (rate limits, 5xx, ordering). */
  retry: number;
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

/** A claimed row with the revision read when it was claimed. */
type Claimed = ScoreColumns & { id: number; user_id: string; revision: number; grade_sent: boolean };

/** One chunk being sent: what every attempt shares. */
interface Chunk {
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

async function claim(deps: PushDeps, linkRef: string, token: string, limit: number): Promise<Claimed[]> {
  const rows = await rowsOf<Claimed>(
    deps.db,
    sql`UPDATE grade_rows g SET lease_token = ${token}::text, lease_until = now() + make_interval(secs => ${deps.leaseMs / 1000}::float8),
          lease_revision = g.revision
        FROM (SELECT id FROM grade_rows WHERE resource_link_ref = ${linkRef}::uuid AND ${DUE}
              ORDER BY id LIMIT ${limit}::int FOR UPDATE SKIP LOCKED) c
        WHERE g.id = c.id
        RETURNING g.id, g.user_id, g.revision, g.score_given, g.score_maximum, g.comment, g.activity_progress, g.grading_progress, g.grade_sent`,
  );
  // node-postgres answers bigint as text.
  return rows.map((r) => ({ ...r, id: Number(r.id), revision: Number(r.revision) }));
}

/**
 * Right before a request leaves: is the row still this chunk's, on a lease that will outlive the
 * request? A lease older than half its life is renewed — for every row the chunk still holds, in one
 * statement — since it may run out while the request is out and another run must not claim the row
 * meanwhile. Still holding the token means nobody claimed it (a claim replaces the token). A hold
 * (Retry-After) is waited out before renewing, never after: a renewed lease spent sleeping could run
 * out before the request. Answers "handed_back" when the platform is held longer than this run waits.
 */
async function readyToSend(c: Chunk, rowId: number): Promise<"ok" | "handed_back" | "lost"> {
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
async function handBack(c: Chunk, rowId: number) {
  const { gate } = c.deps;
  c.held = true;
  c.result.retry++;
  c.leased.delete(rowId);
  await release(c.deps.db, rowId, c.token, gate.holdIsLocal(c.link.platform_id) ? undefined : new Date(gate.heldUntil(c.link.platform_id)));
}

async function giveBack(c: Chunk, rowId: number) {
  c.leased.delete(rowId);
  await release(c.deps.db, rowId, c.token);
}

/** One row's request: wait for a slot, send the revision claimed, record what the LMS answered. */
async function attempt(c: Chunk, row: Claimed): Promise<void> {
  const { deps, link, result } = c;
  if (c.stop) return giveBack(c, row.id);
  const releaseSlot = await deps.gate.tryAcquire(link.platform_id, deps.maxHoldWaitMs);
  if (!releaseSlot) return handBack(c, row.id);
  let answered = false;
  try {
    if (c.stop) return await giveBack(c, row.id);
    await deps.hook?.("before_send", row.id);
    const ready = await readyToSend(c, row.id);
    if (ready === "handed_back") return await handBack(c, row.id);
    if (ready === "lost") return;
    c.leased.delete(row.id);
    const score = scoreOfRow(row);
    // A grade already sent is never followed by a score that would clear it.
    if (row.grade_sent && score.gradingProgress !== "FullyGraded") {
      await recordSkipped(deps, row.id, c.token, row.revision, "would_clear_grade", null, null);
      result.skipped++;
      return;
    }
    const t0 = performance.now();
    const error = await deps.client.postScore(c.auth, c.lineItemId, agsScore(row.user_id, score)).then(
      () => undefined,
      (e: unknown) => e ?? new Error("postScore failed"),
    );
    const latency = Math.round(performance.now() - t0);
    releaseSlot();
    answered = true;
    await deps.hook?.("answered", row.id);
    await record(c, row.id, row.revision, score, error, latency);
  } finally {
    if (!answered) releaseSlot();
  }
}

async function record(c: Chunk, rowId: number, revision: number, score: LedgerScore, error: unknown, latency: number): Promise<void> {
  const { deps, result } = c;
  const outcome = outcomeOf(error, deps.backoffBaseMs);
  if (outcome.kind === "sent") {
    result.sent++;
    await c.sent.add({ id: rowId, rev: revision, graded: isGrade(score), latency });
    return;
  }
  if (outcome.kind === "skipped") {
    await recordSkipped(deps, rowId, c.token, revision, outcome.reason, outcome.status, latency);
    result.skipped++;
  } else if (outcome.kind === "stop" && outcome.stop === "needs_relaunch") {
    c.stop ??= { kind: "needs_relaunch", code: outcome.code };
    await recordReleased(deps, rowId, c.token, revision, "needs_relaunch", "needs_relaunch", outcome.status, latency);
  } else if (outcome.kind === "stop") {
    c.stop ??= { kind: "not_found" };
    await recordReleased(deps, rowId, c.token, revision, "line_item_not_found", "missing", outcome.status, latency);
  } else {
    if (outcome.unreachable) result.unreachable++;
    if (outcome.holdMs !== undefined) {
      deps.gate.hold(c.link.platform_id, Date.now() + outcome.holdMs, { local: outcome.unreachable });
      c.held = true;
    }
    const failed = await recordRetry(deps, rowId, c.token, revision, {
      reason: outcome.reason,
      status: outcome.status,
      latency,
      waitMs: outcome.waitMs,
      countAttempt: outcome.countsAttempt,
    });
    if (failed) result.failed++;
    else result.retry++;
  }
  await deps.hook?.("recorded", rowId);
}

/** After the chunk: a stopped link is marked (key) or looked up once more (line item). */
async function afterStop(c: Chunk): Promise<void> {
  const { deps, link, result } = c;
  if (c.stop?.kind === "needs_relaunch") {
    await markKeyNeedsRelaunch(deps.db, link.id, c.stop.code, link.sealed!);
    result.stop = "needs_relaunch";
    return;
  }
  if (c.stop?.kind !== "not_found") return;
  try {
    const res = await reresolveAfterNotFound(deps.db, gatedClient(deps, link.platform_id), c.auth, linkInfo(link), c.lineItemId);
    if (res.state === "ok") result.lineItemId = c.lineItemId = res.id;
    else result.stop = "missing";
  } catch (error) {
    if (!(error instanceof LtiaasError)) throw error;
    // The look-up itself failed: not a verdict on the line item. Its rows wait for the next run.
    if (error.kind === "needs_relaunch") {
      await markKeyNeedsRelaunch(deps.db, link.id, error.code ?? "unauthorized", link.sealed!);
      result.stop = "needs_relaunch";
    } else result.stop = "unresolved";
  }
}

export async function sendChunk(deps: PushDeps, input: { linkRef: string; lineItemId: string; limit?: number }): Promise<ChunkResult> {
  const result: ChunkResult = { claimed: 0, sent: 0, skipped: 0, failed: 0, retry: 0, unreachable: 0, more: false, waitMs: null };
  const [link] = await loadLinks(deps.db, sql`rl.id = ${input.linkRef}::uuid`);
  if (!link?.sealed || link.key_state !== "active") return { ...result, stop: "needs_relaunch" };
  // The platform is held longer than this run waits (a Retry-After, LTIAAS unreachable): claiming
  // rows only to hand each one back would be all this chunk did.
  const heldFor = deps.gate.heldUntil(link.platform_id) - Date.now();
  if (heldFor > deps.maxHoldWaitMs) return { ...result, waitMs: heldFor, retryAfterMs: heldFor };
  // Opened before claiming, so a key that no longer opens leaves no row leased.
  let auth: { serviceKey: string };
  try {
    auth = await serviceAuth(link);
  } catch (error) {
    if (error instanceof SealError) return { ...result, stop: "needs_relaunch" };
    throw error;
  }

  const token = randomUUID();
  const claimedAt = Date.now();
  const claimed = await claim(deps, input.linkRef, token, input.limit ?? CHUNK_SIZE);
  result.claimed = claimed.length;
  if (claimed.length === 0) return finish(deps.db, input.linkRef, result);
  for (const row of claimed) await deps.hook?.("claimed", row.id);

  const c: Chunk = {
    deps,
    token,
    link,
    auth,
    lineItemId: input.lineItemId,
    result,
    sent: new SentRecorder(deps, token),
    held: false,
    leased: new Set(claimed.map((r) => r.id)),
    leasedAt: claimedAt,
  };
  // Each worker takes the next row; `parallel` bounds this chunk, the gate bounds the platform.
  const queue = [...claimed];
  const errors: unknown[] = [];
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(deps.parallel, queue.length)) }, async () => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        try {
          await attempt(c, row);
        } catch (error) {
          errors.push(error);
          queue.length = 0;
        }
      }
    }),
  );
  // Answers already in hand are recorded even when a step failed (an exception is not a crash).
  await c.sent.flush();
  if (errors.length) throw errors[0];

  await afterStop(c);
  if (c.held) result.retryAfterMs = Math.max(0, deps.gate.heldUntil(link.platform_id) - Date.now());
  return finish(deps.db, input.linkRef, result);
}

async function finish(db: Db, linkRef: string, result: ChunkResult): Promise<ChunkResult> {
  if (result.stop) return result;
  const next = await nextDue(db, linkRef);
  // Held: no row of the link goes before the hold ends, however soon it is due.
  if (next.waitMs !== null && result.retryAfterMs) next.waitMs = Math.max(next.waitMs, result.retryAfterMs);
  return { ...result, ...next };
}
