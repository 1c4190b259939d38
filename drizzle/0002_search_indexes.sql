CREATE INDEX "grade_revisions_delivery_idx" ON "grade_revisions" USING btree ("delivery_id");--> statement-breakpoint
CREATE INDEX "grade_rows_user_idx" ON "grade_rows" USING btree ("user_id");