/** Rows that failed after their bounded attempts go back to pending, attempts reset (Retry failed). */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";

export async function resetFailed(db: Db, contextRefs?: string[] | null): Promise<{ reset: number; contextRefs: string[] }> {
  const filter = contextRefs ? sql`AND context_ref IN (SELECT (jsonb_array_elements_text(${JSON.stringify(contextRefs)}::jsonb))::uuid)` : sql``;
  const rows = await rowsOf<{ context_ref: string }>(db, sql`UPDATE grade_rows SET state = 'pending', attempts = 0, next_attempt_at = NULL, reason = NULL,
      failed_at = NULL, pending_since = now(), updated_at = now()
    WHERE state = 'failed' ${filter} RETURNING context_ref`);
  return { reset: rows.length, contextRefs: [...new Set(rows.map((r) => r.context_ref))] };
}
