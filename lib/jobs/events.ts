/** Event names and payloads shared by the inline runner and the Inngest functions. */
import { z } from "zod";

export const EVENTS = {
  pushGrades: "gradesync/push-grades.requested",
  pushContext: "gradesync/push-context.requested",
  contextChanged: "gradesync/context.changed",
  backfill: "gradesync/backfill.requested",
  retryFailed: "gradesync/retry-failed.requested",
  refreshRosters: "gradesync/refresh-rosters.requested",
} as const;

export const pushContextData = z.object({
  contextRef: z.uuid(),
  platformId: z.string().min(1),
  runId: z.uuid().nullable().optional(),
});
export type PushContextData = z.infer<typeof pushContextData>;

export type JobEvent = { name: typeof EVENTS.pushContext; data: PushContextData; id?: string };

export const JOB_KINDS = ["push-grades", "refresh-rosters", "backfill", "retry-failed"] as const;
export type JobKind = (typeof JOB_KINDS)[number];
