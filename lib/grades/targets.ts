/** Which contexts a push covers: those with pending rows (read from the counters, not the ledger). */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";

export interface ContextTarget {
  contextRef: string;
  platformId: string;
}

export async function contextsWithPending(db: Db, only?: string[] | null): Promise<ContextTarget[]> {
  const filter = only ? sql`AND gc.context_ref IN (SELECT (jsonb_array_elements_text(${JSON.stringify(only)}::jsonb))::uuid)` : sql``;
  return rowsOf<ContextTarget>(db, sql`SELECT gc.context_ref AS "contextRef", p.platform_id AS "platformId"
      FROM grade_counters gc JOIN contexts c ON c.id = gc.context_ref JOIN platforms p ON p.id = c.platform_ref
      WHERE gc.pending > 0 ${filter}
      GROUP BY gc.context_ref, p.platform_id ORDER BY p.platform_id, gc.context_ref`);
}
