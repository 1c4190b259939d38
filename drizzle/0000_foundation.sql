CREATE TABLE "contexts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"platform_ref" uuid NOT NULL,
	"context_id" text NOT NULL,
	"label" text,
	"title" text,
	"roster_refreshed_at" timestamp with time zone,
	"roster_members" integer DEFAULT 0 NOT NULL,
	"roster_active_learners" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "memberships" (
	"context_ref" uuid NOT NULL,
	"user_ref" uuid NOT NULL,
	"roles" text[] DEFAULT '{}'::text[] NOT NULL,
	"kind" text NOT NULL,
	"test_user" boolean DEFAULT false NOT NULL,
	"status" text DEFAULT 'Active' NOT NULL,
	"last_launch_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "memberships_context_ref_user_ref_pk" PRIMARY KEY("context_ref","user_ref")
);
--> statement-breakpoint
CREATE TABLE "platforms" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"platform_id" text NOT NULL,
	"url" text,
	"client_id" text,
	"deployment_id" text,
	"name" text,
	"product_family_code" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "resource_links" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"context_ref" uuid NOT NULL,
	"resource_link_id" text NOT NULL,
	"title" text,
	"launch_line_item_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "service_keys" (
	"resource_link_ref" uuid PRIMARY KEY NOT NULL,
	"sealed" text NOT NULL,
	"key_id" text NOT NULL,
	"has_ags" boolean DEFAULT false NOT NULL,
	"has_nrps" boolean DEFAULT false NOT NULL,
	"state" text DEFAULT 'active' NOT NULL,
	"state_reason" text,
	"state_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"captured_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_launch_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"platform_ref" uuid NOT NULL,
	"user_id" text NOT NULL,
	"name" text,
	"email" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "contexts" ADD CONSTRAINT "contexts_platform_ref_platforms_id_fk" FOREIGN KEY ("platform_ref") REFERENCES "public"."platforms"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_context_ref_contexts_id_fk" FOREIGN KEY ("context_ref") REFERENCES "public"."contexts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_user_ref_users_id_fk" FOREIGN KEY ("user_ref") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "resource_links" ADD CONSTRAINT "resource_links_context_ref_contexts_id_fk" FOREIGN KEY ("context_ref") REFERENCES "public"."contexts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_keys" ADD CONSTRAINT "service_keys_resource_link_ref_resource_links_id_fk" FOREIGN KEY ("resource_link_ref") REFERENCES "public"."resource_links"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_platform_ref_platforms_id_fk" FOREIGN KEY ("platform_ref") REFERENCES "public"."platforms"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "contexts_platform_context_uq" ON "contexts" USING btree ("platform_ref","context_id");--> statement-breakpoint
CREATE INDEX "memberships_user_idx" ON "memberships" USING btree ("user_ref");--> statement-breakpoint
CREATE UNIQUE INDEX "platforms_platform_id_uq" ON "platforms" USING btree ("platform_id");--> statement-breakpoint
CREATE UNIQUE INDEX "resource_links_context_link_uq" ON "resource_links" USING btree ("context_ref","resource_link_id");--> statement-breakpoint
CREATE INDEX "service_keys_key_id_idx" ON "service_keys" USING btree ("key_id");--> statement-breakpoint
CREATE INDEX "service_keys_state_idx" ON "service_keys" USING btree ("state");--> statement-breakpoint
CREATE UNIQUE INDEX "users_platform_user_uq" ON "users" USING btree ("platform_ref","user_id");