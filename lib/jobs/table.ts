/**
 * The one list of jobs. The inline runner, the Inngest functions, the cron routes, the command line
 * and /api/health's job kinds are derived from it: adding a job is one file in definitions/ and one
 * entry here.
 */
import type { JobDefinition } from "./definition";
import { backfillJob } from "./definitions/backfill";
import { pushContextJob } from "./definitions/push-context";
import { pushGradesJob } from "./definitions/push-grades";
import { reconcileContextJob, reconcileJob } from "./definitions/reconcile";
import { refreshRostersJob } from "./definitions/refresh-rosters";
import { retryFailedJob } from "./definitions/retry-failed";
import { rosterContextJob } from "./definitions/roster-context";

export const JOBS: readonly JobDefinition[] = [
  pushGradesJob,
  pushContextJob,
  backfillJob,
  retryFailedJob,
  refreshRostersJob,
  rosterContextJob,
  reconcileJob,
  reconcileContextJob,
];

export function jobOfKind(kind: string): JobDefinition {
  const def = JOBS.find((d) => d.kind === kind);
  if (!def) throw new Error(`no job of kind ${kind}`);
  return def;
}

/** The job an event is for (its own event, or its debounced variant's). */
export function jobOfEvent(name: string | undefined): JobDefinition | undefined {
  return JOBS.find((d) => d.event === name || d.flow.soon?.event === name);
}

/** /api/health's lastRuns: exactly the kinds the README names. */
export const HEALTH_KINDS: readonly string[] = JOBS.filter((d) => d.shows.health).map((d) => d.kind);

/** `npm run job -- <kind>` for runs. */
export const CLI_JOBS: readonly JobDefinition[] = JOBS.filter((d) => d.shows.cli);

/** /api/cron/<path>. */
export const CRON_JOBS: readonly JobDefinition[] = JOBS.filter((d) => d.shows.cron);
