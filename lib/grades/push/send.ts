/**
 * Sending one chunk of a link: claim up to 100 due rows with their revisions (chunk.ts), read what
 * the LMS holds before writing over it (check.ts), send each row through the platform's gate, and
 * record every answer afterwards (record.ts; sent ones in batches). A revision recorded after the
 * claim leaves its row pending for the next push. A crash at any point leaves rows pending (their
 * lease expires); only a revision whose answer was never recorded can be sent again.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { SealError } from "../../crypto/seal";
import { LtiaasError } from "../../ltiaas/errors";
import { watch } from "../../ltiaas/gate";
import { loadPacing, savePacing } from "../../ltiaas/pacing-store";
import { markKeyNeedsRelaunch } from "../../service-keys";
import { reresolveAfterNotFound } from "../line-items";
import { agsScore, isGrade, scoreOfRow, type LedgerScore, type SendAs } from "../score";
import { checkLms, resolveConflict } from "./check";
import { claim, giveBack, handBack, readyToSend, type Chunk, type ChunkResult, type Claimed } from "./chunk";
import { CHUNK_SIZE, type PushDeps } from "./deps";
import { gatedClient, linkInfo, loadLinks, serviceAuth } from "./links";
import { outcomeOf } from "./outcome";
import { nextDue, recordReleased, recordRetry, recordSkipped, SentRecorder } from "./record";

export type { ChunkResult } from "./chunk";

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
    const body = agsScore(row.user_id, score, { submittedAt: row.submitted_at, startedAt: row.started_at }, sendAs(c, row));
    const watched = watch(deps.gate, link.platform_id);
    const error = await deps.client.postScore(c.auth, c.lineItemId, body, watched.options).then(
      () => undefined,
      (e: unknown) => e ?? new Error("postScore failed"),
    );
    watched.done(error);
    const latency = Math.round(performance.now() - t0);
    releaseSlot();
    answered = true;
    await deps.hook?.("answered", row.id);
    await record(c, row, score, error, latency);
  } finally {
    if (!answered) releaseSlot();
  }
}

/**
 * Canvas's extension: `prioritize_non_tool_grade` keeps a grade a teacher entered (left out only on
 * an explicit overwrite); a re-send of the same submission is not a new attempt.
 */
function sendAs(c: Chunk, row: Claimed): SendAs {
  if (c.link.product_family_code !== "canvas") return {};
  const same = row.sent_submitted_at !== null && new Date(row.sent_submitted_at).getTime() === new Date(row.submitted_at).getTime();
  return { canvas: { prioritize: row.source !== "overwrite", newSubmission: !same } };
}

async function record(c: Chunk, row: Claimed, score: LedgerScore, error: unknown, latency: number): Promise<void> {
  const { deps, result } = c;
  const rowId = row.id;
  const revision = row.revision;
  let outcome = outcomeOf(error, deps.backoffBaseMs);
  if (outcome.kind === "conflict") {
    const resolved = await resolveConflict(c, row, score, outcome);
    if (resolved === "overridden") return;
    outcome = resolved;
  }
  if (outcome.kind === "sent") {
    result.sent++;
    await c.sent.add({
      id: rowId,
      rev: revision,
      graded: isGrade(score),
      latency,
      sg: score.scoreGiven,
      sm: score.scoreMaximum,
      sa: new Date(row.submitted_at).toISOString(),
      u: row.user_id,
    });
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
  } else if (outcome.kind === "retry") {
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
  const result: ChunkResult = { claimed: 0, sent: 0, skipped: 0, failed: 0, retry: 0, overridden: 0, unreachable: 0, more: false, waitMs: null };
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

  // The platform's ceiling (and, shared, its window) as the database has it now.
  await loadPacing(deps.db, deps.gate, link.platform_id, deps.sharedPacing);
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
    sent: new SentRecorder(deps, token, link.id),
    held: false,
    leased: new Set(claimed.map((r) => r.id)),
    leasedAt: claimedAt,
  };
  // Each worker takes the next row; the gate bounds the platform to its window (which may narrow or
  // widen while the chunk is sent: workers wait for a slot).
  const queue = await checkLms(c, claimed, (row, error) => record(c, row, scoreOfRow(row), error, 0));
  const errors: unknown[] = [];
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(deps.parallel, deps.gate.window(link.platform_id) * 2, queue.length)) }, async () => {
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
  await savePacing(deps.db, deps.gate, link.platform_id);
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
