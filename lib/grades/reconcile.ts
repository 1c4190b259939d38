/**
 * Reconcile: read back a link's line item and compare every row Gradesync sent (overridden ones
 * included) with what the LMS holds now, by the rule of truth.ts. It sets the link's drift
 * (`inSync`, `differs`, `missing`); a row whose LMS value a person changed becomes `overridden`; a row
 * whose LMS value came back to Gradesync's is sent again (or waits to be, when a newer revision
 * waits); a row the LMS lost is re-sent once as a new revision (source `reconcile`), and if it is
 * still missing at the next reconcile it fails (`not_landed`); a row a previous reconcile saw in sync
 * and now gone was cleared by a person: `overridden`, not re-sent. A value the LMS cut to its
 * maximum counts as in sync, noted `clipped`.
 */
import { sql } from "drizzle-orm";
import { rowsOf } from "../db/rows";
import { keepRead, openLink, readAll, type ReadbackDeps } from "./readback";
import { compare, type LmsResult } from "./truth";

export interface ReconcileCounts {
  inSync: number;
  differs: number;
  missing: number;
  clipped: number;
  resent: number;
}

type Action =
  /** In sync; `clip`: cut to its maximum. An overridden row whose LMS value came back is ours again. */
  | "in_sync"
  | "clip"
  /** A person set another value (or cleared the one a reconcile saw in sync). */
  | "differs"
  | "cleared"
  /** Lost by the LMS: re-sent once, then failed. */
  | "resend"
  | "not_landed";

interface SentRow {
  id: number;
  user_id: string;
  state: string;
  revision: number;
  sent_revision: number;
  sent_score_given: number | null;
  sent_score_maximum: number | null;
  reconciled: string | null;
  reconcile_resent_revision: number | null;
}

export function actionFor(row: SentRow, lms: LmsResult | null | undefined): Action {
  const sent = row.sent_score_given === null ? null : { given: Number(row.sent_score_given), maximum: row.sent_score_maximum === null ? null : Number(row.sent_score_maximum) };
  const c = compare(sent, lms);
  if (c === "equal") return "in_sync";
  if (c === "clipped") return "clip";
  if (c !== "no_result") return "differs";
  // Absent from the LMS's results.
  if (row.state === "overridden" || row.reconciled === "in_sync") return "cleared";
  if (row.reconcile_resent_revision !== null && Number(row.reconcile_resent_revision) === Number(row.sent_revision)) return "not_landed";
  return "resend";
}

/** Reconciles one link; null when it cannot be read now (paused, no active key, no line item). */
export async function reconcileLink(deps: ReadbackDeps, linkRef: string): Promise<ReconcileCounts | null> {
  const link = await openLink(deps, linkRef);
  if (!link) return null;
  // Kept for the run only when its push may send to the link (below): most links are in sync, and
  // keeping every result read would write a row per learner for nothing.
  const lms = await readAll(deps, link.target, { keep: false });
  const rows = await rowsOf<SentRow>(
    deps.db,
    sql`SELECT id, user_id, state, revision, sent_revision, sent_score_given, sent_score_maximum, reconciled, reconcile_resent_revision
        FROM grade_rows WHERE resource_link_ref = ${linkRef}::uuid AND sent_revision IS NOT NULL AND state IN ('sent', 'overridden')`,
  );
  const counts: ReconcileCounts = { inSync: 0, differs: 0, missing: 0, clipped: 0, resent: 0 };
  const actions = rows.map((r) => {
    const seen = lms.get(r.user_id) ?? null;
    const action = actionFor(r, seen);
    if (action === "in_sync" || action === "clip") counts.inSync++;
    if (action === "clip") counts.clipped++;
    if (action === "differs" || action === "cleared") counts.differs++;
    if (action === "resend" || action === "not_landed") counts.missing++;
    if (action === "resend") counts.resent++;
    return { id: Number(r.id), a: action, ls: action === "differs" ? seen?.score ?? null : null, lm: action === "differs" ? seen?.maximum ?? null : null };
  });
  // Rows waiting to be sent after this (a lost row re-sent, a newer revision waiting): a push of this
  // run checks them against this read rather than reading the line item again.
  const waits = (r: SentRow, a: Action) =>
    a === "resend" || ((a === "in_sync" || a === "clip") && r.state === "overridden" && Number(r.revision) !== Number(r.sent_revision));
  if (link.pending > 0 || rows.some((r, i) => waits(r, actions[i].a))) await keepRead(deps, link.target, lms);
  await apply(deps, linkRef, actions, counts);
  return counts;
}

async function apply(deps: ReadbackDeps, linkRef: string, actions: { id: number; a: Action; ls: number | null; lm: number | null }[], counts: ReconcileCounts) {
  const verdict = sql`CASE x.a WHEN 'in_sync' THEN 'in_sync' WHEN 'clip' THEN 'in_sync' WHEN 'differs' THEN 'differs' WHEN 'cleared' THEN 'differs' ELSE 'missing' END`;
  await deps.db.execute(sql`WITH x AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(actions)}::jsonb) AS x(id bigint, a text, ls float8, lm float8)
    ), u AS (
      UPDATE grade_rows g SET
        state = CASE
          WHEN x.a IN ('in_sync', 'clip') AND g.state = 'overridden' THEN CASE WHEN g.revision = g.sent_revision THEN 'sent' ELSE 'pending' END
          WHEN x.a IN ('differs', 'cleared') THEN 'overridden'
          WHEN x.a = 'not_landed' THEN 'failed'
          WHEN x.a = 'resend' THEN 'pending'
          ELSE g.state END,
        reason = CASE
          WHEN x.a IN ('in_sync', 'clip') AND g.state = 'overridden' THEN NULL
          WHEN x.a IN ('differs', 'cleared') THEN 'overridden'
          WHEN x.a = 'not_landed' THEN 'not_landed'
          WHEN x.a = 'resend' THEN NULL
          ELSE g.reason END,
        pending_since = CASE
          WHEN (x.a IN ('in_sync', 'clip') AND g.state = 'overridden' AND g.revision <> g.sent_revision) OR x.a = 'resend' THEN now()
          WHEN x.a IN ('differs', 'cleared', 'not_landed') THEN NULL
          ELSE g.pending_since END,
        failed_at = CASE WHEN x.a = 'not_landed' THEN now() ELSE g.failed_at END,
        revision = CASE WHEN x.a = 'resend' THEN g.revision + 1 ELSE g.revision END,
        source = CASE WHEN x.a = 'resend' THEN 'reconcile' ELSE g.source END,
        reconcile_resent_revision = CASE WHEN x.a = 'resend' THEN g.revision + 1 ELSE g.reconcile_resent_revision END,
        attempts = CASE WHEN x.a = 'resend' THEN 0 ELSE g.attempts END,
        next_attempt_at = CASE WHEN x.a = 'resend' THEN NULL ELSE g.next_attempt_at END,
        lms_score = CASE WHEN x.a = 'differs' THEN x.ls WHEN x.a = 'cleared' THEN NULL WHEN x.a IN ('in_sync', 'clip') THEN NULL ELSE g.lms_score END,
        lms_maximum = CASE WHEN x.a = 'differs' THEN x.lm WHEN x.a = 'cleared' THEN NULL WHEN x.a IN ('in_sync', 'clip') THEN NULL ELSE g.lms_maximum END,
        lms_seen_at = now(),
        clipped = (x.a = 'clip'),
        reconciled = ${verdict},
        updated_at = now()
      FROM x WHERE g.id = x.id
      RETURNING g.*, x.a AS action
    ), audit AS (
      INSERT INTO grade_revisions (grade_row_id, revision, applied, note, source, score_given, score_maximum, comment,
        activity_progress, grading_progress, graded_at, submitted_at, started_at)
      SELECT id, revision, true, 'resend_missing', 'reconcile', score_given, score_maximum, comment, activity_progress, grading_progress,
        graded_at, submitted_at, started_at FROM u WHERE action = 'resend'
    )
    UPDATE resource_links SET drift_checked_at = now(), drift_in_sync = ${counts.inSync}::int, drift_differs = ${counts.differs}::int,
      drift_missing = ${counts.missing}::int
    WHERE id = ${linkRef}::uuid`);
}
