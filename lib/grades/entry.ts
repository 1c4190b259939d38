/**
 * The one shape a score has on its way into the ledger: the webhook's entry, also used by backfill
 * files and the learner activity. Defaults follow the README (Completed / FullyGraded / now).
 */
import { z } from "zod";
import { ACTIVITY_PROGRESS, GRADING_PROGRESS } from "../ltiaas/client";
import { boundedDate, hasNul, isWellFormed, ltiId, text } from "../validation";
import type { LedgerScore } from "./score";

/** Text Postgres can store: no NUL (text and jsonb refuse it), no lone surrogate (jsonb refuses it). */
export const pgText = () =>
  z.string().refine(isWellFormed, "must be valid Unicode (no lone surrogate)").refine((v) => !hasNul(v), "must not contain NUL characters");

const id = ltiId();

export const scoreEntrySchema = z
  .object({
    platformId: id,
    contextId: id,
    resourceLinkId: id,
    userId: id,
    scoreGiven: z.number().finite().min(0).optional(),
    scoreMaximum: z.number().finite().positive().optional(),
    comment: text(10_000).optional(),
    activityProgress: z.enum(ACTIVITY_PROGRESS).default("Completed"),
    gradingProgress: z.enum(GRADING_PROGRESS).default("FullyGraded"),
    // Bounded: a far-future gradedAt would make every later score look older (the row freezes).
    gradedAt: boundedDate().optional(),
    /** When the learner handed the work in (default: gradedAt); LMSs judge lateness by it. */
    submittedAt: boundedDate().optional(),
    startedAt: boundedDate().optional(),
  })
  .superRefine((v, ctx) => {
    if (v.scoreGiven !== undefined && v.scoreMaximum === undefined)
      ctx.addIssue({ code: "custom", path: ["scoreMaximum"], message: "scoreMaximum is required with scoreGiven" });
  });

export type ScoreEntryInput = z.input<typeof scoreEntrySchema>;
export type ScoreEntry = z.output<typeof scoreEntrySchema>;

export type ScoreSource = "activity" | "webhook" | "backfill" | "overwrite" | "reconcile";

/** The score an entry asks the ledger to keep. */
export const ledgerScoreOf = (e: ScoreEntry): LedgerScore => ({
  scoreGiven: e.scoreGiven ?? null,
  scoreMaximum: e.scoreMaximum ?? null,
  comment: e.comment ?? null,
  activityProgress: e.activityProgress,
  gradingProgress: e.gradingProgress,
});

/** A zod error as the webhook's `issues` list (README): path and message, nothing echoed from the input. */
export function issuesOf(error: z.ZodError): { path: (string | number)[]; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === "symbol" ? String(p) : p)), message: i.message }));
}
