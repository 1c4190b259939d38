CREATE TABLE "grade_counters" (
	"resource_link_ref" uuid PRIMARY KEY NOT NULL,
	"context_ref" uuid NOT NULL,
	"pending" integer DEFAULT 0 NOT NULL,
	"sent" integer DEFAULT 0 NOT NULL,
	"skipped" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"oldest_pending_at" timestamp with time zone,
	"last_run_id" uuid
);
--> statement-breakpoint
CREATE TABLE "grade_revisions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"grade_row_id" bigint NOT NULL,
	"revision" integer,
	"applied" boolean NOT NULL,
	"note" text,
	"source" text NOT NULL,
	"delivery_id" text,
	"score_given" double precision,
	"score_maximum" double precision,
	"comment" text,
	"activity_progress" text NOT NULL,
	"grading_progress" text NOT NULL,
	"graded_at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "grade_rows" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"resource_link_ref" uuid NOT NULL,
	"context_ref" uuid NOT NULL,
	"platform_ref" uuid NOT NULL,
	"user_id" text NOT NULL,
	"revision" integer DEFAULT 1 NOT NULL,
	"score_given" double precision,
	"score_maximum" double precision,
	"comment" text,
	"activity_progress" text NOT NULL,
	"grading_progress" text NOT NULL,
	"graded_at" timestamp with time zone NOT NULL,
	"source" text NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"reason" text,
	"pending_since" timestamp with time zone,
	"sent_revision" integer,
	"last_sent_at" timestamp with time zone,
	"grade_sent" boolean DEFAULT false NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"lease_token" text,
	"lease_until" timestamp with time zone,
	"lease_revision" integer,
	"failed_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" uuid,
	"grade_row_id" bigint NOT NULL,
	"revision" integer NOT NULL,
	"http_status" integer,
	"outcome" text NOT NULL,
	"latency_ms" integer,
	"error_code" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"trigger" text NOT NULL,
	"context_ref" uuid,
	"outcome" text DEFAULT 'running' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"accepted" integer NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "resource_links" ADD COLUMN "line_item_id" text;--> statement-breakpoint
ALTER TABLE "resource_links" ADD COLUMN "line_item_state" text DEFAULT 'unresolved' NOT NULL;--> statement-breakpoint
ALTER TABLE "resource_links" ADD COLUMN "line_item_checked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "resource_links" ADD COLUMN "line_item_created_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "resource_links" ADD COLUMN "line_item_claim" text;--> statement-breakpoint
ALTER TABLE "resource_links" ADD COLUMN "line_item_claim_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "grade_counters" ADD CONSTRAINT "grade_counters_resource_link_ref_resource_links_id_fk" FOREIGN KEY ("resource_link_ref") REFERENCES "public"."resource_links"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grade_revisions" ADD CONSTRAINT "grade_revisions_grade_row_id_grade_rows_id_fk" FOREIGN KEY ("grade_row_id") REFERENCES "public"."grade_rows"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grade_rows" ADD CONSTRAINT "grade_rows_resource_link_ref_resource_links_id_fk" FOREIGN KEY ("resource_link_ref") REFERENCES "public"."resource_links"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grade_rows" ADD CONSTRAINT "grade_rows_context_ref_contexts_id_fk" FOREIGN KEY ("context_ref") REFERENCES "public"."contexts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grade_rows" ADD CONSTRAINT "grade_rows_platform_ref_platforms_id_fk" FOREIGN KEY ("platform_ref") REFERENCES "public"."platforms"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "grade_revisions_row_idx" ON "grade_revisions" USING btree ("grade_row_id");--> statement-breakpoint
CREATE UNIQUE INDEX "grade_rows_link_user_uq" ON "grade_rows" USING btree ("resource_link_ref","user_id");--> statement-breakpoint
CREATE INDEX "grade_rows_link_state_idx" ON "grade_rows" USING btree ("resource_link_ref","state","id");--> statement-breakpoint
CREATE INDEX "grade_rows_pending_idx" ON "grade_rows" USING btree ("state","pending_since");--> statement-breakpoint
CREATE INDEX "grade_rows_link_pending_idx" ON "grade_rows" USING btree ("resource_link_ref","state","pending_since");--> statement-breakpoint
CREATE INDEX "grade_rows_failed_idx" ON "grade_rows" USING btree ("state","failed_at");--> statement-breakpoint
CREATE INDEX "grade_rows_context_recorded_idx" ON "grade_rows" USING btree ("context_ref","recorded_at");--> statement-breakpoint
CREATE INDEX "sync_attempts_row_idx" ON "sync_attempts" USING btree ("grade_row_id");--> statement-breakpoint
CREATE INDEX "sync_attempts_run_idx" ON "sync_attempts" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "sync_runs_kind_started_idx" ON "sync_runs" USING btree ("kind","started_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_received_idx" ON "webhook_deliveries" USING btree ("received_at");--> statement-breakpoint
-- Counters per resource link, kept by statement-level triggers so the status pages never scan the
-- ledger. Lease-only updates change no state and so take no lock on the counter row.
CREATE FUNCTION grade_counters_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO grade_counters AS c (resource_link_ref, context_ref, pending, sent, skipped, failed, oldest_pending_at)
  SELECT resource_link_ref, (array_agg(context_ref))[1],
         count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'sent'),
         count(*) FILTER (WHERE state = 'skipped'), count(*) FILTER (WHERE state = 'failed'),
         min(pending_since) FILTER (WHERE state = 'pending')
  FROM new_rows GROUP BY resource_link_ref ORDER BY resource_link_ref
  ON CONFLICT (resource_link_ref) DO UPDATE SET
    pending = c.pending + excluded.pending, sent = c.sent + excluded.sent,
    skipped = c.skipped + excluded.skipped, failed = c.failed + excluded.failed,
    oldest_pending_at = LEAST(c.oldest_pending_at, excluded.oldest_pending_at);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION grade_counters_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH d AS (
    SELECT resource_link_ref, state, -1 AS n FROM old_rows
    UNION ALL SELECT resource_link_ref, state, 1 FROM new_rows
  ), agg AS (
    SELECT resource_link_ref,
           coalesce(sum(n) FILTER (WHERE state = 'pending'), 0) AS p,
           coalesce(sum(n) FILTER (WHERE state = 'sent'), 0) AS s,
           coalesce(sum(n) FILTER (WHERE state = 'skipped'), 0) AS k,
           coalesce(sum(n) FILTER (WHERE state = 'failed'), 0) AS f
    FROM d GROUP BY resource_link_ref
  )
  UPDATE grade_counters c SET pending = c.pending + agg.p, sent = c.sent + agg.s,
         skipped = c.skipped + agg.k, failed = c.failed + agg.f
  FROM agg WHERE c.resource_link_ref = agg.resource_link_ref AND (agg.p, agg.s, agg.k, agg.f) <> (0, 0, 0, 0);
  UPDATE grade_counters c SET oldest_pending_at = (
    SELECT min(g.pending_since) FROM grade_rows g WHERE g.resource_link_ref = c.resource_link_ref AND g.state = 'pending')
  WHERE c.resource_link_ref IN (
    SELECT o.resource_link_ref FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE o.state IS DISTINCT FROM n.state OR o.pending_since IS DISTINCT FROM n.pending_since);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION grade_counters_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH agg AS (
    SELECT resource_link_ref,
           count(*) FILTER (WHERE state = 'pending') AS p, count(*) FILTER (WHERE state = 'sent') AS s,
           count(*) FILTER (WHERE state = 'skipped') AS k, count(*) FILTER (WHERE state = 'failed') AS f
    FROM old_rows GROUP BY resource_link_ref
  )
  UPDATE grade_counters c SET pending = c.pending - agg.p, sent = c.sent - agg.s,
         skipped = c.skipped - agg.k, failed = c.failed - agg.f,
         oldest_pending_at = (SELECT min(g.pending_since) FROM grade_rows g
                              WHERE g.resource_link_ref = c.resource_link_ref AND g.state = 'pending')
  FROM agg WHERE c.resource_link_ref = agg.resource_link_ref;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER grade_counters_ins AFTER INSERT ON grade_rows REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION grade_counters_on_insert();
--> statement-breakpoint
CREATE TRIGGER grade_counters_upd AFTER UPDATE ON grade_rows REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION grade_counters_on_update();
--> statement-breakpoint
CREATE TRIGGER grade_counters_del AFTER DELETE ON grade_rows REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION grade_counters_on_delete();
