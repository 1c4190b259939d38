/**
 * Gradebook truth in a chunk: read what the LMS holds before writing over it, and resolve a timestamp
 * refusal by reading back. A row whose LMS grade a person set is kept `overridden`, not sent.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { rowsOf } from "../../db/rows";
import { LtiaasError } from "../../ltiaas/errors";
import { pagesFor, readAll, readUsers, type ReadbackDeps, type ReadTarget } from "../readback";
import type { LedgerScore } from "../score";
import { compare, holdsOurs, mayWrite, sameValue, type Fraction, type LmsResult } from "../truth";
import { fractionOf, sentOf, type Chunk, type Claimed } from "./chunk";
import { MIN_RETRY_AFTER_MS } from "./deps";
import type { Outcome } from "./outcome";
import { noteClipped, recordOverridden } from "./record";

/**
 * A timestamp refusal is never retried blindly: the user's result is read back. It holds the revision
 * being sent → it landed (sent); it holds the revision last sent → our own ordering, retried at least a
 * second later; anything else → a person wrote later (overridden).
 */
export async function resolveConflict(c: Chunk, row: Claimed, score: LedgerScore, conflict: Extract<Outcome, { kind: "conflict" }>): Promise<Outcome | "overridden"> {
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

const readbackDeps = (c: Chunk): ReadbackDeps => ({ db: c.deps.db, client: c.deps.client, gate: c.deps.gate, maxHoldWaitMs: c.deps.maxHoldWaitMs, runId: c.deps.runId });
const readTarget = (c: Chunk): ReadTarget => ({ linkRef: c.link.id, platformId: c.link.platform_id, lineItemId: c.lineItemId, auth: c.auth });

/**
 * Read before overwriting: what the LMS holds for the chunk's users, compared with what Gradesync
 * last sent. A row whose LMS grade a person set is kept `overridden` and not sent. Not read: explicit
 * overwrites, and a line item Gradesync created and never wrote to. Read once for the run (every
 * page), or user by user when that costs fewer requests. Answers the rows to send; when the read
 * fails, `readFailed` records that answer for every row (retried later, or the link stopped).
 */
export async function checkLms(c: Chunk, rows: Claimed[], readFailed: (row: Claimed, error: LtiaasError) => Promise<void>): Promise<Claimed[]> {
  const { deps, link, result } = c;
  const checked = rows.filter((r) => r.source !== "overwrite");
  if (deps.readBack === false || !checked.length || (link.line_item_created_at !== null && !(await everSent(deps.db, link.id)))) return rows;
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
      await readFailed(r, error);
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
