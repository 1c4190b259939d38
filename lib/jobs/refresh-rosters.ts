/**
 * refresh-rosters: wired to the roster job of issue #4 when it exists (lib/roster exporting
 * `refreshRostersHandler(runner, input, db)`); until then it is an empty run.
 */
import type { Db } from "../db/client";
import type { StepRunner } from "./runner";

type RosterModule = {
  refreshRostersHandler?: (runner: StepRunner, input: { runId: string | null }, db: Db) => Promise<{ counts?: Record<string, number> }>;
};

export async function refreshRostersHandler(runner: StepRunner, input: { runId: string | null }, db: Db): Promise<{ counts: Record<string, number> }> {
  let mod: RosterModule | undefined;
  try {
    // A variable specifier keeps bundlers and tsc from requiring a module that may not exist yet.
    const path = "../roster/index";
    mod = (await import(/* webpackIgnore: true */ path)) as RosterModule;
  } catch {
    mod = undefined;
  }
  if (!mod?.refreshRostersHandler) return { counts: {} };
  const r = await mod.refreshRostersHandler(runner, input, db);
  return { counts: r.counts ?? {} };
}
