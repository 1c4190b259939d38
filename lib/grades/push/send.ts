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
import { sleep, watch } from "../../ltiaas/gate";
import { loadPacing, savePacing } from "../../ltiaas/pacing-store";
import { markKeyNeedsRelaunch } from "../../service-keys";
import { reresolveAfterNotFound } from "../line-items";
import { pagesFor, readAll, readUsers, type ReadbackDeps, type ReadTarget } from "../readback";
import { agsScore, isGrade, scoreOfRow, type LedgerScore, type ScoreColumns, type SendAs } from "../score";
import { compare, holdsOurs, mayWrite, sameValue, type Fraction, type LmsResult } from "../truth";
import { CHUNK_SIZE, MIN_RETRY_AFTER_MS, type PushDeps } from "./deps";
import { gatedClient, linkInfo, loadLinks, serviceAuth, type LinkRow } from "./links";
import { outcomeOf, type Outcome } from "./outcome";
import { DUE, nextDue, noteClipped, recordOverridden, recordReleased, recordRetry, recordSkipped, release, SentRecorder } from "./record";

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
type Claimed = ScoreColumns & {
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

/**
 * A timestamp refusal is never retried blindly: the user's result is read back. It holds the revision
 * being sent → it landed (sent); it holds the revision last sent → our own ordering, retried at least a
 * second later; anything else → a person wrote later (overridden).
 */
async function resolveConflict(c: Chunk, row: Claimed, score: LedgerScore, conflict: Extract<Outcome, { kind: "conflict" }>): Promise<Outcome | "overridden"> {
  const retry: Outcome = { kind: "retry", reason: conflict.reason, status: conflict.status, waitMs: MIN_RETRY_AFTER_MS, countsAttempt: true };
  let lms: LmsResult | null;
  try {
    lms = (await readUsers({ ...readbackDeps(c), runId: null }, readTarget(c), [row.user_id])).get(row.user_id) ?? null;
  } catch (error) {
    if (error instanceof LtiaasError) return retry;
    throw error;
  }
  if (lms && sameValue({ given: score.scoreGiven, maximum: score.scoreMaximum }, lms)) return { kind: "sent" };
  if (holdsOurs(compare(sentOf(row), lms))) return retry;
  await recordOverridden(c.deps, row.id, c.token, row.revision, lms, conflict.status);
  c.result.overridden++;
  await c.deps.hook?.("recorded", row.id);
  return "overridden";
}

const sentOf = (row: Claimed): Fraction | null => (row.sent_score_given === null ? null : { given: row.sent_score_given, maximum: row.sent_score_maximum });
const fractionOf = (row: Claimed): Fraction => ({ given: row.score_given === null ? null : Number(row.score_given), maximum: row.score_maximum === null ? null : Number(row.score_maximum) });

const readbackDeps = (c: Chunk): ReadbackDeps => ({ db: c.deps.db, client: c.deps.client, gate: c.deps.gate, maxHoldWaitMs: c.deps.maxHoldWaitMs, runId: c.deps.runId });
const readTarget = (c: Chunk): ReadTarget => ({ linkRef: c.link.id, platformId: c.link.platform_id, lineItemId: c.lineItemId, auth: c.auth });

/**
 * Read before overwriting: what the LMS holds for the chunk's users, compared with what Gradesync
 * last sent. A row whose LMS grade a person set is kept `overridden` and not sent. Not read: explicit
 * overwrites, and a line item Gradesync created and never wrote to. Read once for the run (every
 * page), or user by user when that costs fewer requests. Answers the rows to send.
 */
async function checkLms(c: Chunk, rows: Claimed[]): Promise<Claimed[]> {
  const { deps, link, result } = c;
  const checked = rows.filter((r) => r.source !== "overwrite");
  if (!checked.length || (link.line_item_created_at !== null && !(await everSent(deps.db, link.id)))) return rows;
  let lms: Map<string, LmsResult | null>;
  try {
    lms =
      link.pending <= pagesFor(link.rows)
        ? await readUsers(readbackDeps(c), readTarget(c), checked.map((r) => r.user_id))
        : await readAll(readbackDeps(c), readTarget(c));
  } catch (error) {
    if (!(error instanceof LtiaasError)) throw error;
    // Without the LMS's answer nothing is overwritten: the read's failure is every row's answer
    // (retried later, the platform held on a throttle, the link stopped on a 401 or a 404).
    for (const r of rows) {
      c.leased.delete(r.id);
      await deps.hook?.("answered", r.id);
      await record(c, r, scoreOfRow(r), error, 0);
    }
    return [];
  }
  const send: Claimed[] = [];
  const clipped: number[] = [];
  const kept: Claimed[] = [];
  for (const r of rows) {
    const verdict = mayWrite(sentOf(r), fractionOf(r), lms.get(r.user_id));
    if (r.source === "overwrite" || verdict.write) {
      if (verdict.comparison === "clipped") clipped.push(r.id);
      send.push(r);
    } else kept.push(r);
  }
  // A value that looks like a person's may be ours after all: a revision whose request was out when
  // its run died, its answer never recorded.
  const unanswered = await unansweredScores(deps.db, kept);
  for (const r of kept) {
    const seen = lms.get(r.user_id) ?? null;
    const ours = unanswered.get(r.id);
    if (ours && seen && sameValue(ours, seen)) {
      send.push(r);
      continue;
    }
    c.leased.delete(r.id);
    await recordOverridden(deps, r.id, c.token, r.revision, seen, null);
    result.overridden++;
  }
  await noteClipped(deps.db, clipped);
  return send;
}

async function unansweredScores(db: Db, rows: Claimed[]): Promise<Map<number, Fraction>> {
  const asked = rows.filter((r) => r.unanswered !== null && r.unanswered > 0).map((r) => ({ g: r.id, rev: r.unanswered }));
  if (!asked.length) return new Map();
  const found = await rowsOf<{ g: number; score_given: number | null; score_maximum: number | null }>(
    db,
    sql`SELECT v.grade_row_id AS g, v.score_given, v.score_maximum FROM grade_revisions v
        JOIN jsonb_to_recordset(${JSON.stringify(asked)}::jsonb) AS x(g bigint, rev int) ON v.grade_row_id = x.g AND v.revision = x.rev`,
  );
  return new Map(found.map((f) => [Number(f.g), { given: f.score_given === null ? null : Number(f.score_given), maximum: f.score_maximum === null ? null : Number(f.score_maximum) }]));
}

/** Whether Gradesync ever wrote a score to the link's line item. */
async function everSent(db: Db, linkRef: string): Promise<boolean> {
  const [r] = await rowsOf<{ sent: boolean }>(
    db,
    sql`SELECT EXISTS (SELECT 1 FROM grade_rows WHERE resource_link_ref = ${linkRef}::uuid AND sent_revision IS NOT NULL) AS sent`,
  );
  return Boolean(r?.sent);
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
  const queue = await checkLms(c, claimed);
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
