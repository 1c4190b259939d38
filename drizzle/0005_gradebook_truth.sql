CREATE TABLE "lms_reads" (
	"run_id" uuid NOT NULL,
	"resource_link_ref" uuid NOT NULL,
	"line_item_id" text NOT NULL,
	"complete" boolean DEFAULT false NOT NULL,
	"read_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lms_reads_run_id_resource_link_ref_pk" PRIMARY KEY("run_id","resource_link_ref")
);
--> statement-breakpoint
CREATE TABLE "lms_results" (
	"run_id" uuid NOT NULL,
	"resource_link_ref" uuid NOT NULL,
	"user_id" text NOT NULL,
	"result_score" double precision,
	"result_maximum" double precision,
	CONSTRAINT "lms_results_run_id_resource_link_ref_user_id_pk" PRIMARY KEY("run_id","resource_link_ref","user_id")
);
--> statement-breakpoint
CREATE TABLE "platform_throttles" (
	"platform_ref" uuid NOT NULL,
	"minute" timestamp with time zone NOT NULL,
	"answers" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "platform_throttles_platform_ref_minute_pk" PRIMARY KEY("platform_ref","minute")
);
--> statement-breakpoint
ALTER TABLE "grade_counters" ADD COLUMN "overridden" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "grade_revisions" ADD COLUMN "submitted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "grade_revisions" ADD COLUMN "started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "grade_rows" ADD COLUMN "submitted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "grade_rows" ADD COLUMN "started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "grade_rows" ADD COLUMN "sent_score_given" double precision;--> statement-breakpoint
ALTER TABLE "grade_rows" ADD COLUMN "sent_score_maximum" double precision;--> statement-breakpoint
ALTER TABLE "grade_rows" ADD COLUMN "sent_submitted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "grade_rows" ADD COLUMN "lms_score" double precision;--> statement-breakpoint
ALTER TABLE "grade_rows" ADD COLUMN "lms_maximum" double precision;--> statement-breakpoint
ALTER TABLE "grade_rows" ADD COLUMN "lms_seen_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "grade_rows" ADD COLUMN "clipped" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "grade_rows" ADD COLUMN "reconciled" text;--> statement-breakpoint
ALTER TABLE "grade_rows" ADD COLUMN "reconcile_resent_revision" integer;--> statement-breakpoint
ALTER TABLE "platforms" ADD COLUMN "paused_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "platforms" ADD COLUMN "concurrency_ceiling" integer;--> statement-breakpoint
ALTER TABLE "platforms" ADD COLUMN "pacing_window" integer;--> statement-breakpoint
ALTER TABLE "platforms" ADD COLUMN "pacing_updated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "resource_links" ADD COLUMN "paused_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "resource_links" ADD COLUMN "drift_checked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "resource_links" ADD COLUMN "drift_in_sync" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "resource_links" ADD COLUMN "drift_differs" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "resource_links" ADD COLUMN "drift_missing" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "lms_reads" ADD CONSTRAINT "lms_reads_resource_link_ref_resource_links_id_fk" FOREIGN KEY ("resource_link_ref") REFERENCES "public"."resource_links"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "platform_throttles" ADD CONSTRAINT "platform_throttles_platform_ref_platforms_id_fk" FOREIGN KEY ("platform_ref") REFERENCES "public"."platforms"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "lms_reads_read_at_idx" ON "lms_reads" USING btree ("read_at");--> statement-breakpoint
-- Scores recorded before submission times existed were handed in, as far as we know, when graded.
UPDATE "grade_revisions" SET "submitted_at" = "graded_at" WHERE "submitted_at" IS NULL;--> statement-breakpoint
UPDATE "grade_rows" g SET "submitted_at" = g."graded_at",
  "sent_submitted_at" = CASE WHEN g."sent_revision" IS NOT NULL THEN g."graded_at" END,
  "sent_score_given" = CASE WHEN g."sent_revision" = g."revision" THEN g."score_given"
                            ELSE (SELECT v."score_given" FROM "grade_revisions" v WHERE v."grade_row_id" = g."id" AND v."revision" = g."sent_revision" LIMIT 1) END,
  "sent_score_maximum" = CASE WHEN g."sent_revision" = g."revision" THEN g."score_maximum"
                              ELSE (SELECT v."score_maximum" FROM "grade_revisions" v WHERE v."grade_row_id" = g."id" AND v."revision" = g."sent_revision" LIMIT 1) END;--> statement-breakpoint
ALTER TABLE "grade_rows" ALTER COLUMN "submitted_at" SET NOT NULL;--> statement-breakpoint
-- The counters gain `overridden` (rows whose LMS grade a person set): the triggers count it too.
CREATE OR REPLACE FUNCTION grade_counters_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO grade_counters AS c (resource_link_ref, context_ref, pending, sent, skipped, failed, overridden, oldest_pending_at)
  SELECT resource_link_ref, (array_agg(context_ref))[1],
         count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'sent'),
         count(*) FILTER (WHERE state = 'skipped'), count(*) FILTER (WHERE state = 'failed'),
         count(*) FILTER (WHERE state = 'overridden'),
         min(pending_since) FILTER (WHERE state = 'pending')
  FROM new_rows GROUP BY resource_link_ref ORDER BY resource_link_ref
  ON CONFLICT (resource_link_ref) DO UPDATE SET
    pending = c.pending + excluded.pending, sent = c.sent + excluded.sent,
    skipped = c.skipped + excluded.skipped, failed = c.failed + excluded.failed,
    overridden = c.overridden + excluded.overridden,
    oldest_pending_at = LEAST(c.oldest_pending_at, excluded.oldest_pending_at);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION grade_counters_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH d AS (
    SELECT resource_link_ref, state, -1 AS n FROM old_rows
    UNION ALL SELECT resource_link_ref, state, 1 FROM new_rows
  ), agg AS (
    SELECT resource_link_ref,
           coalesce(sum(n) FILTER (WHERE state = 'pending'), 0) AS p,
           coalesce(sum(n) FILTER (WHERE state = 'sent'), 0) AS s,
           coalesce(sum(n) FILTER (WHERE state = 'skipped'), 0) AS k,
           coalesce(sum(n) FILTER (WHERE state = 'failed'), 0) AS f,
           coalesce(sum(n) FILTER (WHERE state = 'overridden'), 0) AS o
    FROM d GROUP BY resource_link_ref
  )
  UPDATE grade_counters c SET pending = c.pending + agg.p, sent = c.sent + agg.s,
         skipped = c.skipped + agg.k, failed = c.failed + agg.f, overridden = c.overridden + agg.o
  FROM agg WHERE c.resource_link_ref = agg.resource_link_ref AND (agg.p, agg.s, agg.k, agg.f, agg.o) <> (0, 0, 0, 0, 0);
  UPDATE grade_counters c SET oldest_pending_at = (
    SELECT min(g.pending_since) FROM grade_rows g WHERE g.resource_link_ref = c.resource_link_ref AND g.state = 'pending')
  WHERE c.resource_link_ref IN (
    SELECT o.resource_link_ref FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE o.state IS DISTINCT FROM n.state OR o.pending_since IS DISTINCT FROM n.pending_since);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION grade_counters_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH agg AS (
    SELECT resource_link_ref,
           count(*) FILTER (WHERE state = 'pending') AS p, count(*) FILTER (WHERE state = 'sent') AS s,
           count(*) FILTER (WHERE state = 'skipped') AS k, count(*) FILTER (WHERE state = 'failed') AS f,
           count(*) FILTER (WHERE state = 'overridden') AS o
    FROM old_rows GROUP BY resource_link_ref
  )
  UPDATE grade_counters c SET pending = c.pending - agg.p, sent = c.sent - agg.s,
         skipped = c.skipped - agg.k, failed = c.failed - agg.f, overridden = c.overridden - agg.o,
         oldest_pending_at = (SELECT min(g.pending_since) FROM grade_rows g
                              WHERE g.resource_link_ref = c.resource_link_ref AND g.state = 'pending')
  FROM agg WHERE c.resource_link_ref = agg.resource_link_ref;
  RETURN NULL;
END $$;
