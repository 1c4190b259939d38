/** Event names and payloads shared by the inline runner and the Inngest functions. */
import { z } from "zod";

export const EVENTS = {
  pushGrades: "gradesync/push-grades.requested",
  pushContext: "gradesync/push-context.requested",
  contextChanged: "gradesync/context.changed",
  backfill: "gradesync/backfill.requested",
  retryFailed: "gradesync/retry-failed.requested",
  refreshRosters: "gradesync/refresh-rosters.requested",
  /** One context's roster: fanned out by a refresh run, or sent (debounced) after a teacher's launch. */
  rosterContext: "gradesync/roster-context.requested",
} as const;

export const pushContextData = z.object({
  contextRef: z.uuid(),
  platformId: z.string().min(1),
  runId: z.uuid().nullable().optional(),
});
export type PushContextData = z.infer<typeof pushContextData>;

export const rosterContextData = z.object({
  contextRef: z.uuid(),
  platformId: z.string().min(1),
  runId: z.uuid().nullable().optional(),
  /** "launch": the debounced refresh after a teacher's launch; "run": a unit of a refresh run. */
  reason: z.enum(["run", "launch"]).default("run"),
  force: z.boolean().optional(),
});
export type RosterContextData = z.input<typeof rosterContextData>;

export type JobEvent =
  | { name: typeof EVENTS.pushContext; data: PushContextData; id?: string }
  | { name: typeof EVENTS.rosterContext; data: RosterContextData; id?: string };

export const JOB_KINDS = ["push-grades", "refresh-rosters", "backfill", "retry-failed"] as const;
export type JobKind = (typeof JOB_KINDS)[number];
