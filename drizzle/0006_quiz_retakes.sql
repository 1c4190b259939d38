ALTER TABLE "grade_rows" ADD COLUMN "scored_by" text;--> statement-breakpoint
ALTER TABLE "resource_links" ADD COLUMN "keep_attempt" text DEFAULT 'best' NOT NULL;--> statement-breakpoint
-- Where each row's score came from: the latest score recordScores applied (its revisions carry no
-- note or one of these two); re-sends (selector backfill, the teacher's overwrite) noted otherwise
-- did not change the score. Rows without such a revision keep null, read as their source.
UPDATE "grade_rows" g SET "scored_by" = r.source
FROM (
  SELECT DISTINCT ON (grade_row_id) grade_row_id, source FROM "grade_revisions"
  WHERE applied AND (note IS NULL OR note IN ('would_clear_grade', 'kept_overridden'))
  ORDER BY grade_row_id, id DESC
) r
WHERE r.grade_row_id = g.id;
