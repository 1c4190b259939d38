/** Which contexts a fan-out covers: those with pending rows (read from the counters). */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";
import { EVENTS, type JobEvent } from "./events";

export interface ContextTarget {
  contextRef: string;
  platformId: string;
}

export async function contextsWithPending(db: Db, only?: string[] | null): Promise<ContextTarget[]> {
  const filter = only ? sql`AND gc.context_ref IN (SELECT (jsonb_array_elements_text(${JSON.stringify(only)}::jsonb))::uuid)` : sql``;
  const rows = await rowsOf<ContextTarget>(db, sql`SELECT gc.context_ref AS "contextRef", p.platform_id AS "platformId"
      FROM grade_counters gc JOIN contexts c ON c.id = gc.context_ref JOIN platforms p ON p.id = c.platform_ref
      WHERE gc.pending > 0 ${filter}
      GROUP BY gc.context_ref, p.platform_id ORDER BY p.platform_id, gc.context_ref`);
  return rows;
}

export const pushContextEvents = (targets: ContextTarget[], runId: string | null): JobEvent[] =>
  targets.map((t) => ({ name: EVENTS.pushContext, data: { contextRef: t.contextRef, platformId: t.platformId, runId } }));
