/**
 * retry-failed: rows that failed after their bounded attempts go back to pending (attempts reset),
 * then their contexts are pushed.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";
import type { StepRunner } from "./runner";
import { contextsWithPending, pushContextEvents } from "./targets";

export async function resetFailed(db: Db, contextRefs?: string[] | null): Promise<{ reset: number; contextRefs: string[] }> {
  const filter = contextRefs ? sql`AND context_ref IN (SELECT (jsonb_array_elements_text(${JSON.stringify(contextRefs)}::jsonb))::uuid)` : sql``;
  const rows = await rowsOf<{ context_ref: string }>(db, sql`UPDATE grade_rows SET state = 'pending', attempts = 0, next_attempt_at = NULL, reason = NULL,
      failed_at = NULL, pending_since = now(), updated_at = now()
    WHERE state = 'failed' ${filter} RETURNING context_ref`);
  return { reset: rows.length, contextRefs: [...new Set(rows.map((r) => r.context_ref))] };
}

export async function retryFailedHandler(
  runner: StepRunner,
  input: { runId: string | null; contextRefs?: string[] | null },
  db: Db,
): Promise<{ reset: number; contexts: number }> {
  const { reset, contextRefs } = await runner.run("reset-failed", () => resetFailed(db, input.contextRefs));
  if (!contextRefs.length) return { reset, contexts: 0 };
  const targets = await runner.run("list-contexts", () => contextsWithPending(db, contextRefs));
  if (targets.length) await runner.sendEvent("fan-out", pushContextEvents(targets, input.runId));
  return { reset, contexts: targets.length };
}
