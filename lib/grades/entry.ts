/**
 * The one shape a score has on its way into the ledger: the webhook's entry, also used by backfill
 * files and the learner activity. Defaults follow the contract (Completed / FullyGraded / now).
 */
import { z } from "zod";
import { ACTIVITY_PROGRESS, GRADING_PROGRESS } from "../ltiaas/client";
import type { LedgerScore } from "./score";

/** Text Postgres can store: it refuses NUL characters (in text and in jsonb alike). */
export const pgText = () => z.string().refine((v) => !v.includes("\u0000"), "must not contain NUL characters");

const id = pgText().trim().min(1, "required").max(1024);

export const scoreEntrySchema = z
  .object({
    platformId: id,
    contextId: id,
    resourceLinkId: id,
    userId: id,
    scoreGiven: z.number().finite().min(0).optional(),
    scoreMaximum: z.number().finite().positive().optional(),
    comment: pgText().max(10_000).optional(),
    activityProgress: z.enum(ACTIVITY_PROGRESS).default("Completed"),
    gradingProgress: z.enum(GRADING_PROGRESS).default("FullyGraded"),
    gradedAt: z.iso.datetime({ offset: true }).optional(),
    /** When the learner handed the work in (default: gradedAt); LMSs judge lateness by it. */
    submittedAt: z.iso.datetime({ offset: true }).optional(),
    startedAt: z.iso.datetime({ offset: true }).optional(),
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

/** A zod error as the contract's `issues` list: path and message, nothing echoed from the input. */
export function issuesOf(error: z.ZodError): { path: (string | number)[]; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === "symbol" ? String(p) : p)), message: i.message }));
}
