CREATE TABLE "alerts" (
	"condition" text NOT NULL,
	"subject" text NOT NULL,
	"state" text DEFAULT 'raised' NOT NULL,
	"target" jsonb NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"raised_at" timestamp with time zone DEFAULT now() NOT NULL,
	"cleared_at" timestamp with time zone,
	"notified_on" date,
	"episode_notified" boolean DEFAULT false NOT NULL,
	"sending_until" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alerts_condition_subject_pk" PRIMARY KEY("condition","subject")
);
--> statement-breakpoint
CREATE INDEX "alerts_open_idx" ON "alerts" USING btree ("state") WHERE "alerts"."state" <> 'cleared';--> statement-breakpoint
CREATE INDEX "sync_runs_failed_idx" ON "sync_runs" USING btree ("finished_at") WHERE "sync_runs"."outcome" = 'failed';