/**
 * refresh-rosters: every context whose roster is stale (or the ones named, whatever their age), each
 * a roster-context unit of this run; contexts that cannot be refreshed are counted with the reason.
 */
import { listRosterTargets } from "../../roster/targets";
import { tally } from "../../roster/refresh";
import { defineJob, unitEvents } from "../definition";
import { contextList } from "./push-grades";
import { rosterContextJob } from "./roster-context";

/** Every ROSTER_MAX_AGE_HOURS (read without env(): building the functions must not need the configuration); daily or every N days past 23 h. */
export function rosterCron(source: Record<string, string | undefined> = process.env): string {
  const n = Number(source.ROSTER_MAX_AGE_HOURS);
  const hours = Number.isInteger(n) && n > 0 ? n : 12;
  if (hours < 24) return `TZ=UTC 45 */${hours} * * *`;
  const days = Math.floor(hours / 24);
  return days === 1 ? "TZ=UTC 45 3 * * *" : `TZ=UTC 45 3 */${days} * *`;
}

export const refreshRostersJob = defineJob({
  kind: "refresh-rosters",
  id: "refresh-rosters",
  event: "gradesync/refresh-rosters.requested",
  // Ids of contexts or of resource links (an /api/status id): both name a course's roster.
  payload: contextList,
  flow: { retries: 4, concurrency: "one-at-a-time", cron: () => rosterCron() },
  shows: { health: true, cron: { path: "rosters", method: "GET" }, cli: true },
  contextOf: (p) => (p.contextRefs?.length === 1 ? p.contextRefs[0] : null),
  cliPayload: (args) => ({ contextRefs: args.context ? [args.context.contextRef] : null }),
  async handler({ payload, step, deps, runId }) {
    const only = payload.contextRefs?.length ? payload.contextRefs : null;
    const list = await step.run("list-contexts", () => listRosterTargets(deps.db, { maxAgeHours: deps.rosterMaxAgeHours, only }));
    if (list.due.length) await step.sendEvent("fan-out", unitEvents(rosterContextJob, list.due, runId, { force: Boolean(only) }));
    const skipped = list.skipped.map((s) => ({ contextRef: s.contextRef, outcome: "skipped" as const, reason: s.reason }));
    return { counts: tally(skipped), queued: list.due.length };
  },
  finish: async (_ctx, r) => ({ ...r.counts, queued: r.queued }),
});
