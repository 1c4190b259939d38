/**
 * roster-context: one context's roster refresh — a unit of a refresh-rosters run, or a run of its own
 * "soon" after a teacher's launch finds the roster stale (debounced; it re-checks the age, since a run
 * may have refreshed the context meanwhile).
 */
import { z } from "zod";
import { refreshContext, tally, type RosterDeps } from "../../roster/refresh";
import { defineJob, unitPayload } from "../definition";
import type { JobDeps } from "../deps";

export const rosterDepsOf = (deps: JobDeps): RosterDeps => ({
  db: deps.db,
  client: deps.ltiaas,
  gate: deps.gate,
  tuning: deps.roster,
  maxAgeHours: deps.rosterMaxAgeHours,
  sharedPacing: deps.engine === "inngest",
});

export const rosterContextJob = defineJob({
  kind: "roster-context",
  id: "refresh-roster-context",
  event: "gradesync/roster-context.requested",
  payload: unitPayload.extend({ force: z.boolean().optional() }),
  unitOf: "refresh-rosters",
  flow: {
    retries: 4,
    concurrency: "per-platform-and-context",
    // A roster is held whole in memory until it is swapped in: a few at a time inline.
    inlineFanOut: 4,
    soon: { id: "refresh-roster-soon", event: "gradesync/roster-context.soon", period: "30s", timeout: "2m", inlineDelayMs: 10_000 },
  },
  shows: {},
  handler: ({ payload, step, deps }) =>
    step.run("refresh", () => refreshContext(rosterDepsOf(deps), payload.contextRef, { force: payload.force ?? false })),
  finish: async (_ctx, outcome) => tally([outcome]),
  // An unexpected error is that context's failure, counted as such (the run's other contexts go on).
  gaveUpCounts: async () => tally([{ contextRef: "", outcome: "failed", reason: "error", retried: 0 }]),
});
