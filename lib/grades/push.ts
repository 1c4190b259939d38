/**
 * The push engine's two step bodies. `prepareLinks` finds a context's resource links with pending
 * rows and resolves each one's line item; `sendChunk` claims up to 100 due rows of one link (a lease,
 * in one statement, no transaction held), sends the newest revision of each — re-read right before
 * the request, which renews the lease — through the per-platform gate, and records every answer
 * afterwards. A crash at any point leaves rows pending (their lease expires); only a revision whose
 * answer was never recorded can be sent again.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { open, SealError } from "../crypto/seal";
import { LtiaasError } from "../ltiaas/errors";
import { log } from "../log";
import { markKeyNeedsRelaunch } from "../service-keys";
import { rowsOf } from "../db/rows";
import type { GradeClient } from "./client";
import { sleep, throttlesPlatform, type PlatformGate } from "../ltiaas/gate";
import { reresolveAfterNotFound, resolveLineItem, type LinkInfo } from "./line-items";

export const CHUNK_SIZE = 100;
/**
 * Successful answers are recorded in batches of this many (one statement, one trigger run): a
 * crash can then leave up to this many answers unrecorded — those rows are sent again, which the
 * rules allow only for answers never recorded.
 */
export const SENT_BATCH = 25;
export const MAX_ATTEMPTS = 5;
/** Shortest pause after an answer that asked us to wait (429/503 with `Retry-After`). */
export const MIN_RETRY_AFTER_MS = 1_000;
const DEFAULT_LEASE_MS = 5 * 60_000;

/** Points a test can crash at (a hook that throws). */
export type CrashPoint = "claimed" | "before_send" | "answered" | "recorded";

/** Timings of a push (tests make them quick) and a crash hook for tests. */
export interface PushTuning {
  leaseMs: number;
  /** First retry delay for 5xx/timeouts; doubles per attempt, with jitter. */
  backoffBaseMs: number;
  /** Longest wait inside one run for rows to become due again (else the run ends, rows pending). */
  maxWaitMs: number;
  hook?: PushDeps["hook"];
}

export const DEFAULT_PUSH_TUNING: PushTuning = { leaseMs: DEFAULT_LEASE_MS, backoffBaseMs: 2_000, maxWaitMs: 30_000 };

export interface PushDeps {
  db: Db;
  client: GradeClient;
  gate: PlatformGate;
  runId: string | null;
  /** Requests of one chunk in flight at once (the gate still bounds the platform). */
  parallel: number;
  leaseMs?: number;
  /** First retry delay for 5xx/timeouts; doubles per attempt, with jitter. */
  backoffBaseMs?: number;
  /**
   * Longest a claimed row (or a line item look-up) waits for a platform hold (Retry-After) before it
   * is handed back, due when the hold ends. Inline a short hold is waited out; under Inngest the step
   * ends at once and RetryAfterError reschedules it.
   */
  maxHoldWaitMs: number;
  hook?: (point: CrashPoint, rowId: number) => void | Promise<void>;
}

export interface PreparedLink {
  linkRef: string;
  /** ok: send to lineItemId; otherwise why this link is not pushed now. */
  state: "ok" | "needs_relaunch" | "no_key" | "unreadable_key" | "missing" | "unresolved" | "retry_later";
  lineItemId?: string;
  reason?: string;
}

export interface PreparedContext {
  contextRef: string;
  platformId: string | null;
  links: PreparedLink[];
}

interface LinkRow {
  id: string;
  resource_link_id: string;
  title: string | null;
  context_title: string | null;
  launch_line_item_id: string | null;
  line_item_id: string | null;
  line_item_state: string;
  line_item_created_at: string | null;
  platform_id: string;
  context_id: string;
  sealed: string | null;
  key_state: string | null;
}

const linkInfo = (r: LinkRow): LinkInfo => ({
  id: r.id,
  resourceLinkId: r.resource_link_id,
  title: r.title,
  contextTitle: r.context_title,
  launchLineItemId: r.launch_line_item_id,
  lineItemId: r.line_item_id,
  lineItemState: r.line_item_state,
  lineItemCreatedAt: r.line_item_created_at,
});

async function loadLinks(db: Db, where: ReturnType<typeof sql>): Promise<LinkRow[]> {
  return rowsOf<LinkRow>(
    db,
    sql`SELECT rl.id, rl.resource_link_id, rl.title, c.title AS context_title, rl.launch_line_item_id, rl.line_item_id,
               rl.line_item_state, rl.line_item_created_at, p.platform_id, c.context_id, sk.sealed, sk.state AS key_state
        FROM resource_links rl JOIN contexts c ON c.id = rl.context_ref JOIN platforms p ON p.id = c.platform_ref
        LEFT JOIN service_keys sk ON sk.resource_link_ref = rl.id
        WHERE ${where}`,
  );
}

/**
 * The client for line item calls (look-ups, the one create): each request takes a slot of the
 * platform's gate like a score post, and a throttle holds the whole platform. Without it, many
 * contexts of one platform resolving at once would all be in flight together.
 */
function gatedClient(deps: PushDeps, platformId: string): GradeClient {
  const { client, gate } = deps;
  const gated =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const release = await gate.tryAcquire(platformId, deps.maxHoldWaitMs);
      // Held (Retry-After) longer than this run waits: the link is retried by a later run.
      if (!release) throw new LtiaasError({ kind: "retry_later", operation: "lineItems", reason: "platform rate limited (Retry-After)" });
      try {
        return await call(...args);
      } catch (error) {
        if (error instanceof LtiaasError && throttlesPlatform(error))
          gate.hold(platformId, Date.now() + Math.max(MIN_RETRY_AFTER_MS, (error.retryAfterSeconds ?? 0) * 1000));
        throw error;
      } finally {
        release();
      }
    };
  return {
    listLineItems: gated((...a: Parameters<GradeClient["listLineItems"]>) => client.listLineItems(...a)),
    getLineItem: gated((...a: Parameters<GradeClient["getLineItem"]>) => client.getLineItem(...a)),
    createLineItem: gated((...a: Parameters<GradeClient["createLineItem"]>) => client.createLineItem(...a)),
    postScore: (...a: Parameters<GradeClient["postScore"]>) => client.postScore(...a),
  };
}

/** Opens the link's serviceKey right before use; the plaintext never leaves this call chain. */
async function serviceAuth(r: LinkRow): Promise<{ serviceKey: string }> {
  return { serviceKey: await open(r.sealed!, { platformId: r.platform_id, contextId: r.context_id, resourceLinkId: r.resource_link_id }) };
}

/** Links of the context with pending rows (from the counters, not the ledger), line items resolved. */
export async function prepareLinks(deps: PushDeps, contextRef: string): Promise<PreparedContext> {
  const { db } = deps;
  const links = await loadLinks(
    db,
    sql`rl.context_ref = ${contextRef}::uuid AND rl.id IN (SELECT resource_link_ref FROM grade_counters WHERE context_ref = ${contextRef}::uuid AND pending > 0)`,
  );
  const out: PreparedContext = { contextRef, platformId: links[0]?.platform_id ?? null, links: [] };
  for (const r of links) {
    if (!r.sealed) {
      out.links.push({ linkRef: r.id, state: "no_key" });
      continue;
    }
    if (r.key_state !== "active") {
      out.links.push({ linkRef: r.id, state: "needs_relaunch" });
      continue;
    }
    try {
      // Only needed to create a line item: the largest scoreMaximum among the first pending rows.
      const scoreMaximum = async () => {
        const [{ max }] = await rowsOf<{ max: number | null }>(
          db,
          sql`SELECT max(score_maximum) AS max FROM (SELECT score_maximum FROM grade_rows
              WHERE resource_link_ref = ${r.id}::uuid AND state = 'pending' ORDER BY id LIMIT 1000) s`,
        );
        return max ?? 100;
      };
      const res = await resolveLineItem(db, gatedClient(deps, r.platform_id), await serviceAuth(r), linkInfo(r), scoreMaximum);
      out.links.push(
        res.state === "ok"
          ? { linkRef: r.id, state: "ok", lineItemId: res.id }
          : { linkRef: r.id, state: res.state, reason: res.state === "unresolved" ? res.reason : undefined },
      );
    } catch (error) {
      // Not a reason to fail the whole run: only this link is stuck (its rows stay pending) until a
      // launch seals a fresh key, or the operator puts the dropped encryption key back.
      if (error instanceof SealError) {
        log.warn("push.key_unreadable", { linkRef: r.id, reason: error.reason });
        out.links.push({ linkRef: r.id, state: "unreadable_key", reason: error.reason });
        continue;
      }
      if (error instanceof LtiaasError && error.kind === "needs_relaunch") {
        await markKeyNeedsRelaunch(db, r.id, error.code ?? "unauthorized", r.sealed);
        out.links.push({ linkRef: r.id, state: "needs_relaunch" });
      } else if (error instanceof LtiaasError) {
        out.links.push({ linkRef: r.id, state: "retry_later", reason: error.kind });
      } else throw error;
    }
  }
  return out;
}


export interface ChunkResult {
  claimed: number;
  sent: number;
  skipped: number;
  failed: number;
  /** Rows left pending to be retried later (rate limits, 5xx, ordering). */
  retry: number;
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

interface Claimed {
  id: number;
  user_id: string;
}
interface Current {
  revision: number;
  score_given: number | null;
  score_maximum: number | null;
  comment: string | null;
  activity_progress: string;
  grading_progress: string;
  grade_sent: boolean;
}

const DUE = sql`state = 'pending' AND (lease_until IS NULL OR lease_until < now())
  AND (next_attempt_at IS NULL OR next_attempt_at <= now())
  AND (last_sent_at IS NULL OR last_sent_at <= now() - interval '1 second')`;

export async function sendChunk(
  deps: PushDeps,
  input: { linkRef: string; lineItemId: string; limit?: number },
): Promise<ChunkResult> {
  const { db, client, gate } = deps;
  const token = randomUUID();
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const result: ChunkResult = { claimed: 0, sent: 0, skipped: 0, failed: 0, retry: 0, more: false, waitMs: null };
  const [link] = await loadLinks(db, sql`rl.id = ${input.linkRef}::uuid`);
  if (!link?.sealed || link.key_state !== "active") return { ...result, stop: "needs_relaunch" };
  // Opened before claiming, so a key that no longer opens leaves no row leased.
  let auth: { serviceKey: string };
  try {
    auth = await serviceAuth(link);
  } catch (error) {
    if (error instanceof SealError) return { ...result, stop: "needs_relaunch" };
    throw error;
  }

  const claimed = await rowsOf<Claimed>(
    db,
    sql`UPDATE grade_rows g SET lease_token = ${token}::text, lease_until = now() + make_interval(secs => ${leaseMs / 1000}::float8),
          lease_revision = g.revision
        FROM (SELECT id FROM grade_rows WHERE resource_link_ref = ${input.linkRef}::uuid AND ${DUE}
              ORDER BY id LIMIT ${input.limit ?? CHUNK_SIZE}::int FOR UPDATE SKIP LOCKED) c
        WHERE g.id = c.id RETURNING g.id, g.user_id`,
  );
  result.claimed = claimed.length;
  if (claimed.length === 0) return finish(db, input.linkRef, result);
  for (const row of claimed) await deps.hook?.("claimed", row.id);

  const platformId = link.platform_id;
  let lineItemId = input.lineItemId;
  let stop: "needs_relaunch" | "not_found" | undefined;
  let relaunchCode = "unauthorized";
  let rateLimitedSeen = false;
  const sentBuffer: SentAnswer[] = [];
  let flushing: Promise<void> = Promise.resolve();
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  const flushSent = () => {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    const batch = sentBuffer.splice(0);
    if (batch.length === 0) return flushing;
    flushing = flushing.then(async () => {
      await recordSentBatch(deps, token, batch);
      for (const b of batch) await deps.hook?.("recorded", b.id);
    });
    return flushing;
  };

  const attempt = async (row: Claimed) => {
    if (stop) return release(db, row.id, token);
    const releaseSlot = await gate.tryAcquire(platformId, deps.maxHoldWaitMs);
    if (!releaseSlot) {
      // The platform is held (Retry-After) for longer than this run waits: the row is due when it ends.
      rateLimitedSeen = true;
      result.retry++;
      return release(db, row.id, token, new Date(gate.heldUntil(platformId)));
    }
    let answered = false;
    try {
      if (stop) return await release(db, row.id, token);
      await deps.hook?.("before_send", row.id);
      // The newest revision, read at send time. Reading renews the lease: it may have run out while
      // the row waited for a slot, and another run must not claim the row while this request is out.
      // Still holding the token means nobody claimed it meanwhile (a claim replaces the token).
      // A hold (Retry-After) is waited out before renewing, never after: a renewed lease spent
      // sleeping could run out before the request, and another run would send the row too.
      let cur: Current | undefined;
      while (!cur) {
        const heldFor = gate.heldUntil(platformId) - Date.now();
        if (heldFor > deps.maxHoldWaitMs) {
          rateLimitedSeen = true;
          result.retry++;
          return await release(db, row.id, token, new Date(gate.heldUntil(platformId)));
        }
        if (heldFor > 0) await sleep(heldFor);
        const [read] = await rowsOf<Current>(
          db,
          sql`UPDATE grade_rows SET lease_until = now() + make_interval(secs => ${leaseMs / 1000}::float8)
              WHERE id = ${row.id}::bigint AND lease_token = ${token}::text
              RETURNING revision, score_given, score_maximum, comment, activity_progress, grading_progress, grade_sent`,
        );
        if (!read) return;
        // A Retry-After that came back while this row was being read holds it too: wait, read again.
        if (gate.heldUntil(platformId) <= Date.now()) cur = read;
      }
      if (cur.grade_sent && cur.grading_progress !== "FullyGraded") {
        await recordSkipped(deps, row.id, token, cur.revision, "would_clear_grade", null, null);
        result.skipped++;
        return;
      }
      const t0 = performance.now();
      let error: unknown;
      try {
        await client.postScore(auth, lineItemId, {
          userId: row.user_id,
          activityProgress: cur.activity_progress as never,
          gradingProgress: cur.grading_progress as never,
          ...(cur.score_given !== null ? { scoreGiven: cur.score_given, scoreMaximum: cur.score_maximum ?? undefined } : {}),
          ...(cur.score_given === null && cur.score_maximum !== null ? { scoreMaximum: cur.score_maximum } : {}),
          // Sent on every update: a score without one clears the comment in some LMSs.
          comment: cur.comment ?? "",
        });
      } catch (e) {
        error = e;
      }
      releaseSlot();
      answered = true;
      const latency = Math.round(performance.now() - t0);
      await deps.hook?.("answered", row.id);
      if (error === undefined) {
        const graded = cur.grading_progress === "FullyGraded" && cur.score_given !== null;
        sentBuffer.push({ id: row.id, rev: cur.revision, graded, latency });
        result.sent++;
        if (sentBuffer.length >= SENT_BATCH) await flushSent();
        // A chunk that stalls (platform held, slots busy) must not keep answers unrecorded until the
        // lease covering them runs out: another run would then send the same revision again.
        else flushTimer ??= setTimeout(() => void flushSent().catch(() => undefined), leaseMs / 4);
        return;
      } else {
        const e = error instanceof LtiaasError ? error : undefined;
        const kind = e?.kind ?? "retry_later";
        if (kind === "not_gradable") {
          const reason = `not_gradable: ${e?.reason ?? `HTTP ${e?.status ?? "?"}`}`;
          await recordSkipped(deps, row.id, token, cur.revision, reason, e?.status ?? null, latency);
          result.skipped++;
        } else if (kind === "needs_relaunch") {
          stop ??= "needs_relaunch";
          relaunchCode = e?.code ?? "unauthorized";
          await recordReleased(deps, row.id, token, cur.revision, "needs_relaunch", "needs_relaunch", e?.status ?? null, latency);
        } else if (kind === "not_found") {
          stop ??= "not_found";
          await recordReleased(deps, row.id, token, cur.revision, "line_item_not_found", "missing", e?.status ?? null, latency);
        } else {
          const rateLimited = e?.status === 429 || (e?.status === 403 && kind === "retry_later");
          // `Retry-After: 0` (or an HTTP date already past, e.g. a skewed LMS clock) still means "not
          // now": without a floor the row would be due at once and the run would hammer the platform.
          const waitMs = e?.retryAfterSeconds !== undefined ? Math.max(MIN_RETRY_AFTER_MS, e.retryAfterSeconds * 1000) : undefined;
          if (e && throttlesPlatform(e)) {
            // Retry-After (or a short pause for a throttle without one) holds the whole platform.
            gate.hold(platformId, Date.now() + (waitMs ?? deps.backoffBaseMs ?? 2_000));
            rateLimitedSeen = true;
          }
          const failed = await recordRetry(deps, row.id, token, cur.revision, {
            reason: e ? `${kind}${e.status ? `: HTTP ${e.status}` : e.reason ? `: ${e.reason}` : ""}` : "retry_later: transport",
            status: e?.status ?? null,
            latency,
            waitMs,
            // Rate limits are the platform's pace, not this row's fault: they do not use up attempts.
            countAttempt: !rateLimited,
          });
          if (failed) result.failed++;
          else result.retry++;
        }
      }
      await deps.hook?.("recorded", row.id);
    } finally {
      if (!answered) releaseSlot();
    }
  };

  // Each worker takes the next row; `parallel` bounds this chunk, the gate bounds the platform.
  const queue = [...claimed];
  const errors: unknown[] = [];
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(deps.parallel, queue.length)) }, async () => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        try {
          await attempt(row);
        } catch (error) {
          errors.push(error);
          queue.length = 0;
        }
      }
    }),
  );
  // Answers already in hand are recorded even when a step failed (an exception is not a crash).
  await flushSent();
  if (errors.length) throw errors[0];

  if (stop === "needs_relaunch") {
    await markKeyNeedsRelaunch(db, input.linkRef, relaunchCode, link.sealed);
    result.stop = "needs_relaunch";
  } else if (stop === "not_found") {
    try {
      const res = await reresolveAfterNotFound(db, gatedClient(deps, platformId), auth, linkInfo(link), lineItemId);
      if (res.state === "ok") result.lineItemId = lineItemId = res.id;
      else result.stop = "missing";
    } catch (error) {
      if (!(error instanceof LtiaasError)) throw error;
      // The look-up itself failed: not a verdict on the line item. Its rows wait for the next run.
      if (error.kind === "needs_relaunch") {
        await markKeyNeedsRelaunch(db, input.linkRef, error.code ?? "unauthorized", link.sealed);
        result.stop = "needs_relaunch";
      } else result.stop = "unresolved";
    }
  }
  if (rateLimitedSeen) result.retryAfterMs = Math.max(0, gate.heldUntil(platformId) - Date.now());
  return finish(db, input.linkRef, result);
}

async function finish(db: Db, linkRef: string, result: ChunkResult): Promise<ChunkResult> {
  if (result.stop) return result;
  const [r] = await rowsOf<{ due: boolean }>(
    db,
    sql`SELECT EXISTS (SELECT 1 FROM grade_rows WHERE resource_link_ref = ${linkRef}::uuid AND ${DUE}) AS due`,
  );
  result.more = Boolean(r?.due);
  if (result.more) return result;
  // Nothing due: the rows still pending are waiting (backoff, spacing, a lease) — usually few.
  const [w] = await rowsOf<{ wait_ms: number | null }>(
    db,
    sql`SELECT ceil(extract(epoch FROM min(greatest(coalesce(next_attempt_at, now()), coalesce(lease_until, now()),
              coalesce(last_sent_at + interval '1 second', now()))) - now()) * 1000)::int AS wait_ms
        FROM grade_rows WHERE resource_link_ref = ${linkRef}::uuid AND state = 'pending'`,
  );
  result.waitMs = w?.wait_ms === null || w?.wait_ms === undefined ? null : Math.max(0, Number(w.wait_ms));
  return result;
}

// ─── recording answers (one statement each: the row update and its audit row) ─────────────────

async function audit(
  deps: PushDeps,
  update: ReturnType<typeof sql>,
  rowId: number,
  revision: number,
  outcome: string,
  status: number | null,
  latency: number | null,
  code: string | null,
) {
  await deps.db.execute(sql`WITH u AS (${update} RETURNING id)
    INSERT INTO sync_attempts (run_id, grade_row_id, revision, http_status, outcome, latency_ms, error_code)
    VALUES (${deps.runId}::uuid, ${rowId}::bigint, ${revision}::int, ${status}::int, ${outcome}::text, ${latency}::int, ${code}::text)`);
}

interface SentAnswer {
  id: number;
  rev: number;
  graded: boolean;
  latency: number;
}

async function recordSentBatch(deps: PushDeps, token: string, batch: SentAnswer[]) {
  // A newer revision recorded meanwhile keeps the row pending (sent next, at least a second later),
  // unless it would clear the grade just sent.
  await deps.db.execute(sql`WITH x AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(batch)}::jsonb) AS x(id bigint, rev int, graded boolean, latency int)
    ), u AS (
      UPDATE grade_rows g SET
        state = CASE WHEN g.revision = x.rev THEN 'sent'
                     WHEN x.graded AND g.grading_progress <> 'FullyGraded' THEN 'skipped' ELSE 'pending' END,
        reason = CASE WHEN g.revision <> x.rev AND x.graded AND g.grading_progress <> 'FullyGraded' THEN 'would_clear_grade' END,
        pending_since = CASE WHEN g.revision = x.rev OR (x.graded AND g.grading_progress <> 'FullyGraded') THEN NULL ELSE g.pending_since END,
        sent_revision = x.rev, last_sent_at = now(), grade_sent = g.grade_sent OR x.graded,
        attempts = 0, next_attempt_at = NULL, failed_at = NULL,
        lease_token = NULL, lease_until = NULL, lease_revision = NULL, updated_at = now()
      FROM x WHERE g.id = x.id AND g.lease_token = ${token}::text
      RETURNING g.id)
    INSERT INTO sync_attempts (run_id, grade_row_id, revision, http_status, outcome, latency_ms)
    SELECT ${deps.runId}::uuid, x.id, x.rev, 204, 'sent', x.latency FROM x`);
}

function recordSkipped(
  deps: PushDeps,
  rowId: number,
  token: string,
  revision: number,
  reason: string,
  status: number | null,
  latency: number | null,
) {
  return audit(
    deps,
    sql`UPDATE grade_rows SET
          state = CASE WHEN revision = ${revision}::int THEN 'skipped' ELSE 'pending' END,
          reason = CASE WHEN revision = ${revision}::int THEN ${reason}::text END,
          pending_since = CASE WHEN revision = ${revision}::int THEN NULL ELSE pending_since END,
          lease_token = NULL, lease_until = NULL, lease_revision = NULL, updated_at = now()
        WHERE id = ${rowId}::bigint AND lease_token = ${token}::text`,
    rowId,
    revision,
    "skipped",
    status,
    latency,
    reason.slice(0, 200),
  );
}

function recordReleased(
  deps: PushDeps,
  rowId: number,
  token: string,
  revision: number,
  reason: string,
  outcome: string,
  status: number | null,
  latency: number | null,
) {
  return audit(
    deps,
    sql`UPDATE grade_rows SET reason = ${reason}::text, lease_token = NULL, lease_until = NULL, lease_revision = NULL, updated_at = now()
        WHERE id = ${rowId}::bigint AND lease_token = ${token}::text`,
    rowId,
    revision,
    outcome,
    status,
    latency,
    reason,
  );
}

async function recordRetry(
  deps: PushDeps,
  rowId: number,
  token: string,
  revision: number,
  r: { reason: string; status: number | null; latency: number; waitMs?: number; countAttempt: boolean },
): Promise<boolean> {
  const inc = r.countAttempt ? 1 : 0;
  const [row] = await rowsOf<{ attempts: number }>(
    deps.db,
    sql`SELECT attempts FROM grade_rows WHERE id = ${rowId}::bigint AND lease_token = ${token}::text`,
  );
  const attempts = (row?.attempts ?? 0) + inc;
  const base = deps.backoffBaseMs ?? 2_000;
  // Exponential backoff with full jitter on top of half the step, capped at 10 minutes.
  const backoff = Math.min(600_000, base * 2 ** Math.max(0, attempts - 1));
  const waitMs = Math.max(r.waitMs ?? 0, r.waitMs !== undefined && !r.countAttempt ? 0 : backoff / 2 + Math.random() * (backoff / 2));
  // Decided in the statement, against the row as it is now: a newer revision recorded since the
  // attempts were read starts afresh (the ledger reset its attempts) and is never failed with this one.
  const exhausted = sql`(revision = ${revision}::int AND attempts + ${inc}::int >= ${MAX_ATTEMPTS}::int)`;
  const [audited] = await rowsOf<{ outcome: string }>(
    deps.db,
    sql`WITH u AS (
        UPDATE grade_rows SET attempts = CASE WHEN revision = ${revision}::int THEN attempts + ${inc}::int ELSE attempts END,
          state = CASE WHEN ${exhausted} THEN 'failed' ELSE state END,
          reason = CASE WHEN ${exhausted} THEN ${`max_attempts: ${r.reason}`}::text ELSE ${r.reason}::text END,
          failed_at = CASE WHEN ${exhausted} THEN now() ELSE failed_at END,
          pending_since = CASE WHEN ${exhausted} THEN NULL ELSE pending_since END,
          next_attempt_at = now() + make_interval(secs => ${waitMs / 1000}::float8),
          lease_token = NULL, lease_until = NULL, lease_revision = NULL, updated_at = now()
        WHERE id = ${rowId}::bigint AND lease_token = ${token}::text
        RETURNING state)
      INSERT INTO sync_attempts (run_id, grade_row_id, revision, http_status, outcome, latency_ms, error_code)
      VALUES (${deps.runId}::uuid, ${rowId}::bigint, ${revision}::int, ${r.status}::int,
        CASE WHEN EXISTS (SELECT 1 FROM u WHERE state = 'failed') THEN 'failed' ELSE 'retry_later' END,
        ${r.latency}::int, ${r.reason.slice(0, 200)}::text)
      RETURNING outcome`,
  );
  return audited?.outcome === "failed";
}

async function release(db: Db, rowId: number, token: string, notBefore?: Date) {
  await db.execute(sql`UPDATE grade_rows SET lease_token = NULL, lease_until = NULL, lease_revision = NULL,
      next_attempt_at = CASE WHEN ${notBefore?.toISOString() ?? null}::timestamptz IS NULL THEN next_attempt_at
                             ELSE greatest(coalesce(next_attempt_at, now()), ${notBefore?.toISOString() ?? null}::timestamptz) END
    WHERE id = ${rowId}::bigint AND lease_token = ${token}::text`);
}
