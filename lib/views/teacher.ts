/**
 * What the teacher's page shows beyond the header facts (lib/links/state): one page of
 * students with their latest score, the last runs touching the course, and the outcomes of the
 * last 30 days. Every query is bounded by the resource link (indexed), never the whole ledger.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { explainNotGradable } from "../roster/view";
import { explain, withClassList, type Explanation, type RowState } from "./reasons";
import { rowsOf, toDate, toNullableNumber, toNumber } from "../db/rows";
import { lastUtcDays } from "./rows";

export const STUDENTS_PER_PAGE = 100;

export interface StudentRow {
  userId: string;
  name: string | null;
  /** Roster facts when the LMS told us (launch or roster refresh). */
  memberStatus: string | null;
  memberKind: string | null;
  testUser: boolean;
  state: RowState;
  scoreGiven: number | null;
  scoreMaximum: number | null;
  recordedAt: Date | null;
  /** When the learner handed the work in (sent with the score: the LMS judges lateness by it). */
  submittedAt: Date | null;
  lastSentAt: Date | null;
  lastAttempt: { at: Date; outcome: string; httpStatus: number | null } | null;
  explanation: Explanation;
}

export interface StudentPage {
  rows: StudentRow[];
  page: number;
  pageSize: number;
  total: number;
  pages: number;
}

interface RawStudent {
  user_id: string;
  name: string | null;
  member_status: string | null;
  member_kind: string | null;
  test_user: boolean | null;
  state: string | null;
  reason: string | null;
  score_given: number | string | null;
  score_maximum: number | string | null;
  recorded_at: Date | string | null;
  submitted_at: Date | string | null;
  last_sent_at: Date | string | null;
  attempt_at: Date | string | null;
  attempt_outcome: string | null;
  attempt_status: number | null;
  total: number | string;
}

/**
 * Learners of the course (roster or launches) and everyone with a score on this link, those who
 * need attention first (failed, set by hand in the LMS, not sent, waiting), then by name. One page of `pageSize`.
 */
export async function studentPage(
  db: Db,
  input: { resourceLinkRef: string; contextRef: string; page?: number; pageSize?: number; rosterRefreshed?: boolean },
): Promise<StudentPage> {
  const pageSize = Math.min(Math.max(input.pageSize ?? STUDENTS_PER_PAGE, 1), 500);
  const requested = Math.max(1, Math.floor(input.page ?? 1));
  const query = (page: number) => rowsOf<RawStudent>(
    db,
    sql`WITH people AS (
          SELECT u.user_id, u.name, m.status, m.kind, m.test_user
          FROM memberships m JOIN users u ON u.id = m.user_ref
          WHERE m.context_ref = ${input.contextRef}::uuid
        ), scored AS (
          SELECT g.id, g.user_id, g.state, g.reason, g.score_given, g.score_maximum, g.recorded_at, g.submitted_at, g.last_sent_at
          FROM grade_rows g WHERE g.resource_link_ref = ${input.resourceLinkRef}::uuid
        ), merged AS (
          SELECT coalesce(s.user_id, p.user_id) AS user_id, p.name, p.status AS member_status, p.kind AS member_kind,
                 p.test_user, s.id AS row_id, s.state, s.reason, s.score_given, s.score_maximum, s.recorded_at, s.submitted_at, s.last_sent_at,
                 CASE s.state WHEN 'failed' THEN 0 WHEN 'overridden' THEN 1 WHEN 'skipped' THEN 2 WHEN 'pending' THEN 3 WHEN 'sent' THEN 4 ELSE 5 END AS rank
          FROM scored s FULL OUTER JOIN (SELECT * FROM people WHERE kind = 'learner') p ON p.user_id = s.user_id
        ), paged AS (
          SELECT m.*, count(*) OVER () AS total FROM merged m
          ORDER BY rank, lower(coalesce(name, user_id)), user_id
          LIMIT ${pageSize}::int OFFSET ${(page - 1) * pageSize}::int
        )
        SELECT pg.user_id, coalesce(pg.name, pp.name) AS name, coalesce(pg.member_status, pp.status) AS member_status,
               coalesce(pg.member_kind, pp.kind) AS member_kind, coalesce(pg.test_user, pp.test_user) AS test_user,
               pg.state, pg.reason, pg.score_given, pg.score_maximum, pg.recorded_at, pg.submitted_at, pg.last_sent_at, pg.total,
               a.at AS attempt_at, a.outcome AS attempt_outcome, a.http_status AS attempt_status
        FROM paged pg
        LEFT JOIN people pp ON pp.user_id = pg.user_id AND pg.member_kind IS NULL
        LEFT JOIN LATERAL (SELECT at, outcome, http_status FROM sync_attempts WHERE grade_row_id = pg.row_id ORDER BY id DESC LIMIT 1) a ON true
        ORDER BY pg.rank, lower(coalesce(pg.name, pg.user_id)), pg.user_id`,
  );
  let raw = await query(requested);
  let page = requested;
  let total = toNumber(raw[0]?.total);
  if (raw.length === 0 && requested > 1) {
    // A page past the end (the roster shrank, or a hand-made link): show the last page instead.
    const [count] = await rowsOf<{ n: number | string }>(
      db,
      sql`SELECT count(*) AS n FROM (SELECT user_id FROM grade_rows WHERE resource_link_ref = ${input.resourceLinkRef}::uuid
          UNION SELECT u.user_id FROM memberships m JOIN users u ON u.id = m.user_ref
          WHERE m.context_ref = ${input.contextRef}::uuid AND m.kind = 'learner') x`,
    );
    total = toNumber(count?.n);
    page = Math.max(1, Math.ceil(total / pageSize));
    if (total > 0) raw = await query(page);
  }
  const rows = raw.map((r): StudentRow => {
    const state = (r.state ?? "none") as RowState;
    const member = { status: r.member_status, kind: r.member_kind, testUser: r.test_user };
    const attemptAt = toDate(r.attempt_at);
    return {
      userId: r.user_id,
      name: r.name,
      memberStatus: r.member_status,
      memberKind: r.member_kind,
      testUser: Boolean(r.test_user),
      state,
      scoreGiven: toNullableNumber(r.score_given),
      scoreMaximum: toNullableNumber(r.score_maximum),
      recordedAt: toDate(r.recorded_at),
      submittedAt: toDate(r.submitted_at),
      lastSentAt: toDate(r.last_sent_at),
      lastAttempt: attemptAt && r.attempt_outcome ? { at: attemptAt, outcome: r.attempt_outcome, httpStatus: r.attempt_status } : null,
      explanation: withRoster(explain(state, r.reason, member), state, r.reason, r, input.rosterRefreshed ?? false),
    };
  });
  return { rows, page, pageSize, total, pages: Math.max(1, Math.ceil(total / pageSize)) };
}

/** A refusal by the LMS, with what the class list says about that person (when we have one). */
function withRoster(e: Explanation, state: RowState, reason: string | null, r: RawStudent, rosterRefreshed: boolean): Explanation {
  if (state !== "skipped" || !reason?.startsWith("not_gradable")) return e;
  const known = r.member_kind !== null;
  if (!known && !rosterRefreshed) return e;
  const why = explainNotGradable(
    known ? { userId: r.user_id, name: r.name, kind: r.member_kind!, status: r.member_status ?? "Active", testUser: Boolean(r.test_user) } : undefined,
  );
  return withClassList(e, why);
}

export interface RunRow {
  id: string;
  kind: string;
  trigger: string;
  outcome: string;
  startedAt: Date;
  finishedAt: Date | null;
  counts: Record<string, number>;
  /** Not this course's own run: one over every course (nightly, an operator's), whose counts are everyone's. */
  wholeSchool: boolean;
}

interface RawRun {
  id: string;
  kind: string;
  trigger: string;
  outcome: string;
  started_at: Date | string;
  finished_at: Date | string | null;
  counts: Record<string, number> | string;
  whole_school?: boolean | null;
}

export function runFromRaw(r: RawRun): RunRow {
  return {
    id: r.id,
    kind: r.kind,
    trigger: r.trigger,
    outcome: r.outcome,
    startedAt: toDate(r.started_at)!,
    finishedAt: toDate(r.finished_at),
    counts: typeof r.counts === "string" ? JSON.parse(r.counts) : (r.counts ?? {}),
    wholeSchool: Boolean(r.whole_school),
  };
}

/** Runs of this course: its own pushes, and the larger run that last touched its link. */
export async function contextRuns(db: Db, input: { contextRef: string; resourceLinkRef: string; limit?: number }): Promise<RunRow[]> {
  return (await rowsOf<RawRun>(db, contextRunsQuery(input))).map(runFromRaw);
}

/** Exported for the test that reads its plan: sync_runs grows with every push, so it must use an index. */
export function contextRunsQuery(input: { contextRef: string; resourceLinkRef: string; limit?: number }) {
  return sql`SELECT id, kind, trigger, outcome, started_at, finished_at, counts, context_ref IS NULL AS whole_school FROM sync_runs
      WHERE context_ref = ${input.contextRef}::uuid
         OR id = (SELECT last_run_id FROM grade_counters WHERE resource_link_ref = ${input.resourceLinkRef}::uuid)
      ORDER BY started_at DESC LIMIT ${input.limit ?? 5}::int`;
}

export const OUTCOME_KINDS = ["sent", "retry_later", "skipped", "failed", "needs_relaunch", "missing"] as const;
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

export interface DayOutcomes {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  counts: Record<OutcomeKind, number>;
}

/** Attempts on this link per UTC day and outcome, oldest first, every one of the `days` days present. */
export async function outcomeSeries(db: Db, input: { resourceLinkRef: string; days?: number; now?: Date }): Promise<DayOutcomes[]> {
  const { start, days } = lastUtcDays(input.days ?? 30, input.now);
  const raw = await rowsOf<{ day: string; outcome: string; n: number | string }>(
    db,
    sql`SELECT to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, a.outcome, count(*) AS n
        FROM grade_rows g JOIN sync_attempts a ON a.grade_row_id = g.id
        WHERE g.resource_link_ref = ${input.resourceLinkRef}::uuid AND a.at >= ${start.toISOString()}::timestamptz
        GROUP BY 1, 2`,
  );
  const index = new Map(days.map((day) => [day, { day, counts: Object.fromEntries(OUTCOME_KINDS.map((k) => [k, 0])) as Record<OutcomeKind, number> }]));
  for (const r of raw) {
    const entry = index.get(r.day);
    const kind = (OUTCOME_KINDS as readonly string[]).includes(r.outcome) ? (r.outcome as OutcomeKind) : "failed";
    if (entry) entry.counts[kind] += toNumber(r.n);
  }
  return [...index.values()];
}
