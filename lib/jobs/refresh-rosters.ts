/**
 * refresh-rosters: the roster job of issue #4 (lib/roster). Kept here so lib/jobs names every job
 * the inline runner, the CLI and the Inngest functions dispatch to.
 */
import type { Db } from "../db/client";
import { refreshRostersHandler as rosterHandler, type RefreshRostersInput } from "../roster/job";
import type { StepRunner } from "./runner";

export async function refreshRostersHandler(
  runner: StepRunner,
  input: RefreshRostersInput,
  db: Db,
): Promise<{ counts: Record<string, number>; queued: number; error?: string }> {
  const r = await rosterHandler(runner, input, db);
  return { counts: r.counts, queued: r.queued, error: r.error };
}
