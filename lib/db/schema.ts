/**
 * The database schema (Postgres, through Drizzle). One row per LMS thing we learn of at launch:
 * platform → context (course) → resource link (the triple's last part, one line item each), users
 * and their roles per context, and the sealed serviceKey per triple.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const createdAt = () => ts("created_at").notNull().defaultNow();
const updatedAt = () => ts("updated_at").notNull().defaultNow();

export const platforms = pgTable(
  "platforms",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** LTIAAS's `platform.id`. */
    platformId: text("platform_id").notNull(),
    url: text("url"),
    clientId: text("client_id"),
    deploymentId: text("deployment_id"),
    name: text("name"),
    productFamilyCode: text("product_family_code"),
    /** An operator paused every call to this LMS (scores are still recorded). */
    pausedAt: ts("paused_at"),
    /** The operator's ceiling of requests in flight to this LMS; null: PLATFORM_CONCURRENCY. */
    concurrencyCeiling: integer("concurrency_ceiling"),
    /** The pacing window now (requests in flight it allows), shared by every process; null: the ceiling. */
    pacingWindow: integer("pacing_window"),
    pacingUpdatedAt: ts("pacing_updated_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("platforms_platform_id_uq").on(t.platformId)],
);

export const contexts = pgTable(
  "contexts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    platformRef: uuid("platform_ref")
      .notNull()
      .references(() => platforms.id, { onDelete: "cascade" }),
    /** The LMS's `launch.context.id`. */
    contextId: text("context_id").notNull(),
    label: text("label"),
    title: text("title"),
    rosterRefreshedAt: ts("roster_refreshed_at"),
    rosterMembers: integer("roster_members").notNull().default(0),
    rosterActiveLearners: integer("roster_active_learners").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("contexts_platform_context_uq").on(t.platformRef, t.contextId)],
);

export const resourceLinks = pgTable(
  "resource_links",
  {
    /** Gradesync's id for the triple: `/contexts/<id>` and `/api/status` entries use it. */
    id: uuid("id").primaryKey().defaultRandom(),
    contextRef: uuid("context_ref")
      .notNull()
      .references(() => contexts.id, { onDelete: "cascade" }),
    /** The LMS's `launch.resourceLink.id`. */
    resourceLinkId: text("resource_link_id").notNull(),
    title: text("title"),
    /** AGS line item named by the last launch that carried one (only when the link has exactly one). */
    launchLineItemId: text("launch_line_item_id"),
    /** The line item pushes use, once resolved (launch's, found, or the one we created). */
    lineItemId: text("line_item_id"),
    /** unresolved | ok | missing (404 twice: deleted column or concluded course). */
    lineItemState: text("line_item_state").notNull().default("unresolved"),
    lineItemCheckedAt: ts("line_item_checked_at"),
    /** Set once we created a line item for this link: never create a second one. */
    lineItemCreatedAt: ts("line_item_created_at"),
    /** Lease of the one run allowed to create this link's line item. */
    lineItemClaim: text("line_item_claim"),
    lineItemClaimUntil: ts("line_item_claim_until"),
    /** A teacher paused this link (e.g. while regrading): nothing calls the LMS for it. */
    pausedAt: ts("paused_at"),
    /** The last reconcile's read-back of the LMS's results (over rows that were sent). */
    driftCheckedAt: ts("drift_checked_at"),
    driftInSync: integer("drift_in_sync").notNull().default(0),
    driftDiffers: integer("drift_differs").notNull().default(0),
    driftMissing: integer("drift_missing").notNull().default(0),
    /** Which quiz attempt counts when a learner retakes: best (the default) | latest. Set by the teacher. */
    keepAttempt: text("keep_attempt").notNull().default("best"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("resource_links_context_link_uq").on(t.contextRef, t.resourceLinkId)],
);

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    platformRef: uuid("platform_ref")
      .notNull()
      .references(() => platforms.id, { onDelete: "cascade" }),
    /** The LMS's `user.id` (LTI `sub`). */
    userId: text("user_id").notNull(),
    name: text("name"),
    email: text("email"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("users_platform_user_uq").on(t.platformRef, t.userId)],
);

/** A user's roles in one context, from launches and (later) roster refreshes. */
export const memberships = pgTable(
  "memberships",
  {
    contextRef: uuid("context_ref")
      .notNull()
      .references(() => contexts.id, { onDelete: "cascade" }),
    userRef: uuid("user_ref")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    roles: text("roles").array().notNull().default(sql`'{}'::text[]`),
    /** Derived from `roles`: teacher | learner | mentor | other. */
    kind: text("kind").notNull(),
    testUser: boolean("test_user").notNull().default(false),
    /** NRPS status: Active | Inactive | Deleted (launches imply Active). */
    status: text("status").notNull().default("Active"),
    lastLaunchAt: ts("last_launch_at"),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.contextRef, t.userRef] }), index("memberships_user_idx").on(t.userRef)],
);

/** The serviceKey of one triple, sealed (JWE bound to the triple); overwritten on every launch. */
export const serviceKeys = pgTable(
  "service_keys",
  {
    resourceLinkRef: uuid("resource_link_ref")
      .primaryKey()
      .references(() => resourceLinks.id, { onDelete: "cascade" }),
    sealed: text("sealed").notNull(),
    /** Id of the encryption key that sealed it (for rotation). */
    keyId: text("key_id").notNull(),
    hasAgs: boolean("has_ags").notNull().default(false),
    hasNrps: boolean("has_nrps").notNull().default(false),
    /** active | needs_relaunch */
    state: text("state").notNull().default("active"),
    stateReason: text("state_reason"),
    stateChangedAt: ts("state_changed_at").notNull().defaultNow(),
    capturedAt: ts("captured_at").notNull().defaultNow(),
    lastLaunchAt: ts("last_launch_at").notNull().defaultNow(),
  },
  (t) => [index("service_keys_key_id_idx").on(t.keyId), index("service_keys_state_idx").on(t.state)],
);

// ─── The grade ledger ──────────────────────────────────────────────────────────────────────────

/**
 * The desired score of one user on one resource link's line item, with a revision that only grows.
 * `state` pending → sent | skipped | failed; a lease (`leaseToken`, `leaseUntil`) claims a row for one
 * sender, so two pushes never send one revision twice; the answer is recorded after the request.
 */
export const gradeRows = pgTable(
  "grade_rows",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    resourceLinkRef: uuid("resource_link_ref")
      .notNull()
      .references(() => resourceLinks.id, { onDelete: "cascade" }),
    contextRef: uuid("context_ref")
      .notNull()
      .references(() => contexts.id, { onDelete: "cascade" }),
    platformRef: uuid("platform_ref")
      .notNull()
      .references(() => platforms.id, { onDelete: "cascade" }),
    /** The LMS's user id. */
    userId: text("user_id").notNull(),
    revision: integer("revision").notNull().default(1),
    scoreGiven: doublePrecision("score_given"),
    scoreMaximum: doublePrecision("score_maximum"),
    comment: text("comment"),
    activityProgress: text("activity_progress").notNull(),
    gradingProgress: text("grading_progress").notNull(),
    gradedAt: ts("graded_at").notNull(),
    /** When the learner handed the work in (LMSs judge lateness by it); sent with every score. */
    submittedAt: ts("submitted_at").notNull(),
    startedAt: ts("started_at"),
    /** activity | webhook | backfill | overwrite | reconcile */
    source: text("source").notNull(),
    /**
     * The source of the score the row holds: set by recordScores only, so a re-send (selector
     * backfill, the teacher's overwrite, reconcile) keeps it. A grader's score or a correction is
     * never replaced by a quiz attempt (lib/grades/retakes.ts). Null (rows from before): `source`.
     */
    scoredBy: text("scored_by"),
    recordedAt: ts("recorded_at").notNull().defaultNow(),
    /** pending | sent | skipped | failed | overridden (the LMS holds a grade a person set; kept) */
    state: text("state").notNull().default("pending"),
    /** Why skipped/failed/waiting (not_gradable:…, would_clear_grade, max_attempts, needs_relaunch…). */
    reason: text("reason"),
    pendingSince: ts("pending_since"),
    sentRevision: integer("sent_revision"),
    /** The score of the revision last sent: what the LMS should hold (read-backs compare with it). */
    sentScoreGiven: doublePrecision("sent_score_given"),
    sentScoreMaximum: doublePrecision("sent_score_maximum"),
    /** submittedAt of the revision last sent (Canvas: an unchanged one is not a new submission). */
    sentSubmittedAt: ts("sent_submitted_at"),
    lastSentAt: ts("last_sent_at"),
    /** What the LMS held when last read (overridden and drifted rows); null score: no grade there. */
    lmsScore: doublePrecision("lms_score"),
    lmsMaximum: doublePrecision("lms_maximum"),
    lmsSeenAt: ts("lms_seen_at"),
    /** The LMS cut the score sent to its maximum. */
    clipped: boolean("clipped").notNull().default(false),
    /** The last reconcile's verdict: in_sync | differs | missing. */
    reconciled: text("reconciled"),
    /** The revision reconcile re-sent once because the LMS had lost it (still missing next time: failed). */
    reconcileResentRevision: integer("reconcile_resent_revision"),
    /** A FullyGraded score was accepted by the LMS: later non-graded progress would clear it. */
    gradeSent: boolean("grade_sent").notNull().default(false),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: ts("next_attempt_at"),
    leaseToken: text("lease_token"),
    leaseUntil: ts("lease_until"),
    leaseRevision: integer("lease_revision"),
    failedAt: ts("failed_at"),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("grade_rows_link_user_uq").on(t.resourceLinkRef, t.userId),
    index("grade_rows_link_state_idx").on(t.resourceLinkRef, t.state, t.id),
    index("grade_rows_pending_idx").on(t.state, t.pendingSince),
    index("grade_rows_link_pending_idx").on(t.resourceLinkRef, t.state, t.pendingSince),
    index("grade_rows_failed_idx").on(t.state, t.failedAt),
    index("grade_rows_context_recorded_idx").on(t.contextRef, t.recordedAt),
    // The operator's "why is this grade missing?" search starts from a user id.
    index("grade_rows_user_idx").on(t.userId),
  ],
);

/** Every score recorded (applied or not: an older `gradedAt` is kept here only). */
export const gradeRevisions = pgTable(
  "grade_revisions",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    gradeRowId: bigint("grade_row_id", { mode: "number" })
      .notNull()
      .references(() => gradeRows.id, { onDelete: "cascade" }),
    /** The row's revision this score became; null when it did not replace the current one. */
    revision: integer("revision"),
    applied: boolean("applied").notNull(),
    /**
     * Why not applied / why skipped: older_graded_at, unchanged, would_clear_grade; a quiz attempt
     * kept out by the retake rule: kept_best, grader_score (lib/grades/retakes.ts).
     */
    note: text("note"),
    source: text("source").notNull(),
    deliveryId: text("delivery_id"),
    scoreGiven: doublePrecision("score_given"),
    scoreMaximum: doublePrecision("score_maximum"),
    comment: text("comment"),
    activityProgress: text("activity_progress").notNull(),
    gradingProgress: text("grading_progress").notNull(),
    gradedAt: ts("graded_at").notNull(),
    submittedAt: ts("submitted_at"),
    startedAt: ts("started_at"),
    recordedAt: ts("recorded_at").notNull().defaultNow(),
  },
  (t) => [
    index("grade_revisions_row_idx").on(t.gradeRowId),
    // …or from a webhook delivery id.
    index("grade_revisions_delivery_idx").on(t.deliveryId),
  ],
);

/** Webhook deliveries already recorded (idempotency by `id`; kept at least 30 days). */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    accepted: integer("accepted").notNull(),
    receivedAt: ts("received_at").notNull().defaultNow(),
  },
  (t) => [index("webhook_deliveries_received_idx").on(t.receivedAt)],
);

/**
 * Counts of ledger rows per resource link by state, kept by a trigger on grade_rows (see the
 * ledger migration), so status pages and /api/status never scan the ledger.
 */
export const gradeCounters = pgTable("grade_counters", {
  resourceLinkRef: uuid("resource_link_ref")
    .primaryKey()
    .references(() => resourceLinks.id, { onDelete: "cascade" }),
  contextRef: uuid("context_ref").notNull(),
  pending: integer("pending").notNull().default(0),
  sent: integer("sent").notNull().default(0),
  skipped: integer("skipped").notNull().default(0),
  failed: integer("failed").notNull().default(0),
  overridden: integer("overridden").notNull().default(0),
  oldestPendingAt: ts("oldest_pending_at"),
  lastRunId: uuid("last_run_id"),
});

/** One job run: push-grades, refresh-rosters, backfill, retry-failed. */
export const syncRuns = pgTable(
  "sync_runs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    kind: text("kind").notNull(),
    /** cron | cli | debounce | webhook | manual | inngest */
    trigger: text("trigger").notNull(),
    /** Set when the run covers a single context. */
    contextRef: uuid("context_ref"),
    /** running | completed | partial | failed */
    outcome: text("outcome").notNull().default("running"),
    startedAt: ts("started_at").notNull().defaultNow(),
    finishedAt: ts("finished_at"),
    counts: jsonb("counts").$type<Record<string, number>>().notNull().default(sql`'{}'::jsonb`),
    error: text("error"),
  },
  (t) => [
    index("sync_runs_kind_started_idx").on(t.kind, t.startedAt),
    // The teacher page's "recent syncs": every debounced push adds a run, so without it each view
    // scans the whole table (~100 ms at 2M runs).
    index("sync_runs_context_started_idx").on(t.contextRef, t.startedAt),
    // The `run_failed` alert finds recent failures without reading every run.
    index("sync_runs_failed_idx").on(t.finishedAt).where(sql`${t.outcome} = 'failed'`),
  ],
);

/**
 * The units of a run fanned out as events (under Inngest, each context's push or roster refresh runs
 * on its own): the last unit to finish settles the run, so a run reads `running` until its work is
 * done. A unit's counts are added once, when its row is marked done. Inline runs have no units: the
 * run ends when its handler returns.
 */
export const syncRunUnits = pgTable(
  "sync_run_units",
  {
    runId: uuid("run_id")
      .notNull()
      .references(() => syncRuns.id, { onDelete: "cascade" }),
    contextRef: uuid("context_ref").notNull(),
    doneAt: ts("done_at"),
    /** Set when the unit gave up (its retries ran out): the run ends partial. */
    error: text("error"),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.contextRef] }),
    // "Is any unit of this run left?" — asked each time a unit finishes.
    index("sync_run_units_open_idx").on(t.runId).where(sql`${t.doneAt} IS NULL`),
  ],
);

/** One row per request sent (or decided without sending) for a ledger row. Never holds a secret. */
export const syncAttempts = pgTable(
  "sync_attempts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    runId: uuid("run_id"),
    gradeRowId: bigint("grade_row_id", { mode: "number" }).notNull(),
    revision: integer("revision").notNull(),
    httpStatus: integer("http_status"),
    /** sent | retry_later | skipped | needs_relaunch | missing | failed */
    outcome: text("outcome").notNull(),
    latencyMs: integer("latency_ms"),
    errorCode: text("error_code"),
    at: ts("at").notNull().defaultNow(),
  },
  (t) => [index("sync_attempts_row_idx").on(t.gradeRowId), index("sync_attempts_run_idx").on(t.runId)],
);

/**
 * What a push or a reconcile read of a line item's results, kept for its run so every step of the run
 * shares one read (a step under Inngest may run in another process). `complete`: every page was read
 * (else only the users read one by one are here). Pruned with old runs.
 */
export const lmsReads = pgTable(
  "lms_reads",
  {
    runId: uuid("run_id").notNull(),
    resourceLinkRef: uuid("resource_link_ref")
      .notNull()
      .references(() => resourceLinks.id, { onDelete: "cascade" }),
    lineItemId: text("line_item_id").notNull(),
    complete: boolean("complete").notNull().default(false),
    readAt: ts("read_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.resourceLinkRef] }), index("lms_reads_read_at_idx").on(t.readAt)],
);

/** One user's result as read (no row: the LMS listed no result for the user in a complete read). */
export const lmsResults = pgTable(
  "lms_results",
  {
    runId: uuid("run_id").notNull(),
    resourceLinkRef: uuid("resource_link_ref").notNull(),
    userId: text("user_id").notNull(),
    /** Null: the LMS has a result without a score (counts as no result). */
    resultScore: doublePrecision("result_score"),
    resultMaximum: doublePrecision("result_maximum"),
  },
  (t) => [primaryKey({ columns: [t.runId, t.resourceLinkRef, t.userId] })],
);

/** Throttling answers per platform and minute (pacing, /admin, the `throttled` alert). */
export const platformThrottles = pgTable(
  "platform_throttles",
  {
    platformRef: uuid("platform_ref")
      .notNull()
      .references(() => platforms.id, { onDelete: "cascade" }),
    minute: ts("minute").notNull(),
    answers: integer("answers").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.platformRef, t.minute] })],
);

/**
 * Operator alerts (lib/alerts): one row per condition and subject — a resource link, a platform
 * (`throttled`) or a kind of run (`run_failed`) — so each is told once a day while it lasts and once
 * when it is over, whichever process evaluates. `state`: raised → clearing (over; its cleared message
 * not yet delivered) → cleared; raised again, a new episode begins.
 */
export const alerts = pgTable(
  "alerts",
  {
    condition: text("condition").notNull(),
    /** `link:<resource link id>`, `platform:<platform id>` or `run:<kind>:<context id | all>`. */
    subject: text("subject").notNull(),
    state: text("state").notNull().default("raised"),
    /** Who it is about and what was seen, as the messages say it (kept for the cleared message). */
    target: jsonb("target").$type<Record<string, unknown>>().notNull(),
    detail: jsonb("detail").$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    raisedAt: ts("raised_at").notNull().defaultNow(),
    clearedAt: ts("cleared_at"),
    /** The UTC day of the last raise message delivered: one a day per condition and subject. */
    notifiedOn: date("notified_on", { mode: "string" }),
    /** A raise message of this episode was delivered, so its end is told too. */
    episodeNotified: boolean("episode_notified").notNull().default(false),
    /** A process is sending this alert's message until then (a crash lets the lease lapse). */
    sendingUntil: ts("sending_until"),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.condition, t.subject] }), index("alerts_open_idx").on(t.state).where(sql`${t.state} <> 'cleared'`)],
);
