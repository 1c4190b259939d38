/**
 * push-grades: the nightly (and on-demand) push — every context with pending rows, fanned out as
 * one push-context unit per context.
 */
import type { Db } from "../db/client";
import { pruneDeliveries } from "../grades/deliveries";
import type { StepRunner } from "./runner";
import { abandonStaleRuns } from "./runs";
import { contextsWithPending, pushContextEvents } from "./targets";

export async function pushGradesHandler(
  runner: StepRunner,
  input: { runId: string | null; contextRefs?: string[] | null },
  db: Db,
): Promise<{ contexts: number }> {
  // A run over every context (the nightly cron; every 6 h under Inngest) also forgets webhook
  // delivery ids past their retention, and ends runs that will never finish on their own.
  if (!input.contextRefs) {
    await runner.run("prune-deliveries", () => pruneDeliveries(db));
    await runner.run("abandon-stale-runs", () => abandonStaleRuns(db));
  }
  const targets = await runner.run("list-contexts", () => contextsWithPending(db, input.contextRefs ?? null));
  if (targets.length) await runner.sendEvent("fan-out", pushContextEvents(targets, input.runId));
  return { contexts: targets.length };
}
