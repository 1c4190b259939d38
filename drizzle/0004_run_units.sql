CREATE TABLE "sync_run_units" (
	"run_id" uuid NOT NULL,
	"context_ref" uuid NOT NULL,
	"done_at" timestamp with time zone,
	"error" text,
	CONSTRAINT "sync_run_units_run_id_context_ref_pk" PRIMARY KEY("run_id","context_ref")
);
--> statement-breakpoint
ALTER TABLE "sync_run_units" ADD CONSTRAINT "sync_run_units_run_id_sync_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."sync_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sync_run_units_open_idx" ON "sync_run_units" USING btree ("run_id") WHERE "sync_run_units"."done_at" IS NULL;