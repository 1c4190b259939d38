/**
 * recordScores: the ONE way a score enters the ledger (learner activity, grader webhook, backfill).
 * One short transaction, all or nothing: the delivery id (if any) is remembered, every triple must
 * be known, each (resource link, user) row gets a new revision unless the score is older than the
 * current one (by `gradedAt`), changes nothing, or is a quiz attempt the link's retake rule keeps out
 * (retakes.ts); every score is audited in grade_revisions, with a note when not applied.
 * It answers which contexts changed: its callers ask for a push of them (lib/jobs).
 */
import { sql } from "drizzle-orm";
import { getDb, type Db, type Tx } from "../db/client";
import { ledgerScoreOf, scoreEntrySchema, type ScoreEntry, type ScoreEntryInput, type ScoreSource } from "./entry";
import { attemptMayReplace, attemptNote, asKeepAttempt, ATTEMPT_NOTES, ATTEMPT_SOURCE, type KeepAttempt } from "./retakes";
import { scoreColumns, type ScoreColumns } from "./score";
import { rowsOf } from "../db/rows";

export interface UnknownTriple {
  index: number;
  platformId: string;
  contextId: string;
  resourceLinkId: string;
}

export class UnknownTripleError extends Error {
  constructor(readonly unknown: UnknownTriple[]) {
    super(`${unknown.length} score(s) name a (platform, context, resource link) never launched`);
    this.name = "UnknownTripleError";
  }
}

export interface RecordOptions {
  source: ScoreSource;
  /** Webhook delivery id: a second delivery with the same id changes nothing. */
  deliveryId?: string;
  /** Corrections (backfill from a file) become new revisions whatever their `gradedAt`. */
  correction?: boolean;
  /** Explicit: a row whose LMS grade a person set is sent again too (source `overwrite`). */
  overwrite?: boolean;
  db?: Db;
  now?: Date;
}

/** A context whose rows became pending: it wants a push (platformId: Inngest's concurrency key). */
export interface ChangedContext {
  contextRef: string;
  platformId: string;
}

export type RecordResult =
  | { duplicate: true }
  | { duplicate: false; accepted: number; applied: number; skipped: number; changed: ChangedContext[] };

interface Resolved {
  entry: ScoreEntry;
  index: number;
  rl: string;
  c: string;
  p: string;
  /** The link's retake rule (quiz attempts). */
  keep: KeepAttempt;
}

interface Triple {
  rl: string;
  c: string;
  p: string;
  keep: KeepAttempt;
}

const tripleKey = (e: { platformId: string; contextId: string; resourceLinkId: string }) =>
  JSON.stringify([e.platformId, e.contextId, e.resourceLinkId]);

async function resolveTriples(tx: Db | Tx, entries: ScoreEntry[]): Promise<Map<string, Triple>> {
  const distinct = new Map<string, ScoreEntry>();
  for (const e of entries) if (!distinct.has(tripleKey(e))) distinct.set(tripleKey(e), e);
  const input = [...distinct.values()].map((e) => ({ pid: e.platformId, cid: e.contextId, rid: e.resourceLinkId }));
  const rows = await rowsOf<{ pid: string; cid: string; rid: string; rl: string; c: string; p: string; keep: string }>(
    tx,
    sql`SELECT t.pid, t.cid, t.rid, rl.id AS rl, c.id AS c, p.id AS p, rl.keep_attempt AS keep
        FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS t(pid text, cid text, rid text)
        JOIN platforms p ON p.platform_id = t.pid
        JOIN contexts c ON c.platform_ref = p.id AND c.context_id = t.cid
        JOIN resource_links rl ON rl.context_ref = c.id AND rl.resource_link_id = t.rid`,
  );
  return new Map(
    rows.map((r) => [tripleKey({ platformId: r.pid, contextId: r.cid, resourceLinkId: r.rid }), { rl: r.rl, c: r.c, p: r.p, keep: asKeepAttempt(r.keep) }]),
  );
}

/** The entries whose triple was never launched (nothing is written). */
export async function findUnknownTriples(db: Db, entries: readonly (ScoreEntryInput | ScoreEntry)[]): Promise<UnknownTriple[]> {
  const parsed = entries.map((e) => scoreEntrySchema.parse(e));
  const triples = await resolveTriples(db, parsed);
  return parsed.flatMap((e, index) =>
    triples.has(tripleKey(e)) ? [] : [{ index, platformId: e.platformId, contextId: e.contextId, resourceLinkId: e.resourceLinkId }],
  );
}

export async function recordScores(entries: readonly (ScoreEntryInput | ScoreEntry)[], options: RecordOptions): Promise<RecordResult> {
  const db = options.db ?? (await getDb());
  const now = options.now ?? new Date();
  const parsed = entries.map((e) => scoreEntrySchema.parse(e));
  const correction = options.correction ?? false;

  const result = await db.transaction(async (tx) => {
    if (options.deliveryId !== undefined) {
      const fresh = await rowsOf(
        tx,
        sql`INSERT INTO webhook_deliveries (id, accepted, received_at) VALUES (${options.deliveryId}::text, ${parsed.length}::int, ${now.toISOString()}::timestamptz)
            ON CONFLICT (id) DO NOTHING RETURNING id`,
      );
      if (fresh.length === 0) return { duplicate: true } as const;
    }
    const triples = await resolveTriples(tx, parsed);
    const unknown: UnknownTriple[] = [];
    const resolved: Resolved[] = [];
    parsed.forEach((entry, index) => {
      const t = triples.get(tripleKey(entry));
      if (!t) unknown.push({ index, platformId: entry.platformId, contextId: entry.contextId, resourceLinkId: entry.resourceLinkId });
      else resolved.push({ entry, index, ...t });
    });
    // Throwing rolls the transaction back, delivery id included: the grader may retry it.
    if (unknown.length) throw new UnknownTripleError(unknown);
    return apply(tx, resolved, options.source, correction, options.deliveryId ?? null, now, options.overwrite ?? false);
  });

  return result;
}

const gradedAtOf = (e: ScoreEntry, now: Date) => (e.gradedAt ? new Date(e.gradedAt) : now);

/**
 * An entry's score as both statements below take it: the table's own columns. `submitted_at` is the
 * entry's, else (a correction) the row's current one, else when it was graded.
 */
const columnsOf = (e: ScoreEntry, now: Date, current?: string | null) => {
  const gradedAt = gradedAtOf(e, now).toISOString();
  return {
    ...scoreColumns(ledgerScoreOf(e)),
    graded_at: gradedAt,
    submitted_at: e.submittedAt ?? current ?? gradedAt,
    started_at: e.startedAt ?? null,
  };
};
/** Those columns' types in jsonb_to_recordset. */
const SCORE_RECORD = sql.raw(
  "score_given float8, score_maximum float8, comment text, activity_progress text, grading_progress text, graded_at timestamptz, submitted_at timestamptz, started_at timestamptz",
);

async function apply(
  tx: Tx,
  resolved: Resolved[],
  source: ScoreSource,
  correction: boolean,
  deliveryId: string | null,
  now: Date,
  overwrite: boolean,
): Promise<Extract<RecordResult, { duplicate: false }>> {
  const kept = sql`(g.state = 'overridden' AND NOT ${overwrite}::boolean)`;
  // One statement cannot update a row twice: pick each (link, user)'s winner first. Later entries win
  // ties (README: on equal gradedAt the later delivery wins); corrections: the last one.
  const winners = new Map<string, Resolved>();
  const losers = new Set<Resolved>();
  for (const r of resolved) {
    const key = `${r.rl}|${r.entry.userId}`;
    const prev = winners.get(key);
    if (!prev || correction || gradedAtOf(r.entry, now) >= gradedAtOf(prev.entry, now)) {
      if (prev) losers.add(prev);
      winners.set(key, r);
    } else losers.add(r);
  }
  // A correction without a submission time keeps the row's: a re-send never moves it.
  const submittedNow = correction ? await currentSubmittedAt(tx, [...winners.values()]) : new Map<string, string>();
  const input = [...winners.values()].map((r) => ({
    rl: r.rl,
    c: r.c,
    p: r.p,
    u: r.entry.userId,
    ...columnsOf(r.entry, now, submittedNow.get(`${r.rl}|${r.entry.userId}`)),
  }));
  const nowIso = now.toISOString();
  const applied = await rowsOf<{ id: number; rl: string; u: string; revision: number; state: string; c: string }>(
    tx,
    sql`INSERT INTO grade_rows AS g (resource_link_ref, context_ref, platform_ref, user_id, revision, score_given, score_maximum,
          comment, activity_progress, grading_progress, graded_at, submitted_at, started_at, source, scored_by, recorded_at, state, pending_since, updated_at)
        SELECT x.rl, x.c, x.p, x.u, 1, x.score_given, x.score_maximum, x.comment, x.activity_progress, x.grading_progress, x.graded_at,
               x.submitted_at, x.started_at, ${source}::text, ${source}::text, ${nowIso}::timestamptz, 'pending', ${nowIso}::timestamptz, ${nowIso}::timestamptz
        FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS x(rl uuid, c uuid, p uuid, u text, ${SCORE_RECORD})
        ORDER BY x.rl, x.u
        ON CONFLICT (resource_link_ref, user_id) DO UPDATE SET
          revision = g.revision + 1,
          score_given = excluded.score_given, score_maximum = excluded.score_maximum, comment = excluded.comment,
          activity_progress = excluded.activity_progress, grading_progress = excluded.grading_progress,
          graded_at = excluded.graded_at, submitted_at = excluded.submitted_at, started_at = excluded.started_at,
          source = excluded.source, scored_by = excluded.scored_by, recorded_at = excluded.recorded_at,
          -- A grade a person set in the LMS stays theirs: the new revision waits, shown, until an
          -- explicit overwrite (or the LMS's value comes back to Gradesync's).
          state = CASE WHEN ${kept} THEN 'overridden'
                       WHEN g.grade_sent AND excluded.grading_progress <> 'FullyGraded' THEN 'skipped' ELSE 'pending' END,
          reason = CASE WHEN ${kept} THEN g.reason
                        WHEN g.grade_sent AND excluded.grading_progress <> 'FullyGraded' THEN 'would_clear_grade' END,
          pending_since = CASE WHEN ${kept} OR (g.grade_sent AND excluded.grading_progress <> 'FullyGraded') THEN NULL
                               WHEN g.state = 'pending' THEN g.pending_since ELSE excluded.pending_since END,
          attempts = 0, next_attempt_at = NULL, failed_at = NULL, updated_at = excluded.updated_at
        WHERE ${correction}::boolean OR (excluded.graded_at >= g.graded_at AND
          (g.score_given, g.score_maximum, g.comment, g.activity_progress, g.grading_progress)
            IS DISTINCT FROM (excluded.score_given, excluded.score_maximum, excluded.comment, excluded.activity_progress, excluded.grading_progress)
          -- A quiz attempt: the link's retake rule, and never over a grader's score (retakes.ts).
          AND ${attemptMayReplace(source)})
        RETURNING g.id, g.resource_link_ref AS rl, g.user_id AS u, g.revision, g.state, g.context_ref AS c`,
  );
  const appliedByKey = new Map(applied.map((a) => [`${a.rl}|${a.u}`, a]));
  // After the statement: a row it did not update shows what the entry met (the audit's note).
  const current = await rowsOf<
    { id: number; rl: string; u: string; graded_at: string | Date; scored_by: string | null; source: string } & Pick<ScoreColumns, "score_given" | "score_maximum">
  >(
    tx,
    sql`SELECT g.id, g.resource_link_ref AS rl, g.user_id AS u, g.graded_at, g.scored_by, g.source, g.score_given, g.score_maximum FROM grade_rows g
        JOIN jsonb_to_recordset(${JSON.stringify(input.map((i) => ({ rl: i.rl, u: i.u })))}::jsonb) AS x(rl uuid, u text)
          ON g.resource_link_ref = x.rl AND g.user_id = x.u`,
  );
  const currentByKey = new Map(current.map((c) => [`${c.rl}|${c.u}`, c]));

  const audit = resolved.map((r) => {
    const key = `${r.rl}|${r.entry.userId}`;
    const a = losers.has(r) ? undefined : appliedByKey.get(key);
    const row = currentByKey.get(key)!;
    let note: string | null = null;
    if (a) note = a.state === "skipped" ? "would_clear_grade" : a.state === "overridden" ? "kept_overridden" : null;
    else if (losers.has(r)) note = "superseded_in_delivery";
    else {
      // In the statement's order of checks: a grader's score first, then time, then the retake rule.
      const retake = source === ATTEMPT_SOURCE ? attemptNote(r.keep, row, r.entry) : null;
      if (retake === ATTEMPT_NOTES.graderScore) note = retake;
      else if (new Date(row.graded_at) > gradedAtOf(r.entry, now)) note = "older_graded_at";
      else note = retake ?? "unchanged";
    }
    return {
      g: row.id,
      rev: a?.revision ?? null,
      ok: Boolean(a),
      note,
      ...columnsOf(r.entry, now, submittedNow.get(key)),
    };
  });
  await tx.execute(
    sql`INSERT INTO grade_revisions (grade_row_id, revision, applied, note, source, delivery_id, score_given, score_maximum,
          comment, activity_progress, grading_progress, graded_at, submitted_at, started_at, recorded_at)
        SELECT x.g, x.rev, x.ok, x.note, ${source}::text, ${deliveryId}::text, x.score_given, x.score_maximum, x.comment,
               x.activity_progress, x.grading_progress, x.graded_at, x.submitted_at, x.started_at, ${nowIso}::timestamptz
        FROM jsonb_to_recordset(${JSON.stringify(audit)}::jsonb) AS x(g bigint, rev int, ok boolean, note text, ${SCORE_RECORD})`,
  );
  return {
    duplicate: false,
    accepted: resolved.length,
    applied: applied.filter((a) => a.state === "pending" || a.state === "overridden").length,
    skipped: applied.filter((a) => a.state === "skipped").length,
    changed: changedContexts(resolved, applied),
  };
}

async function currentSubmittedAt(tx: Tx, rows: Resolved[]): Promise<Map<string, string>> {
  const keys = rows.map((r) => ({ rl: r.rl, u: r.entry.userId }));
  const found = await rowsOf<{ rl: string; u: string; submitted_at: Date | string }>(
    tx,
    sql`SELECT g.resource_link_ref AS rl, g.user_id AS u, g.submitted_at FROM grade_rows g
        JOIN jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) AS x(rl uuid, u text) ON g.resource_link_ref = x.rl AND g.user_id = x.u`,
  );
  return new Map(found.map((f) => [`${f.rl}|${f.u}`, new Date(f.submitted_at).toISOString()]));
}

/** The contexts where a row became pending, each once, with its LTIAAS platform id. */
function changedContexts(resolved: Resolved[], applied: { c: string; state: string }[]): ChangedContext[] {
  const platformOf = new Map(resolved.map((r) => [r.c, r.entry.platformId]));
  const pending = new Set(applied.filter((a) => a.state === "pending").map((a) => a.c));
  return [...pending].map((contextRef) => ({ contextRef, platformId: platformOf.get(contextRef)! }));
}
