/**
 * What the client is asked to send, and the zod checks it runs before sending: a bad input is our
 * bug, but it still fails as an LtiaasError (and sends nothing).
 */
import { z } from "zod";
import { LtiaasError, type LtiaasErrorKind } from "./errors";
import type { LineItem } from "./schemas";

/** AGS score vocabulary (the ledger validates incoming scores against the same lists). */
export const ACTIVITY_PROGRESS = ["Initialized", "Started", "InProgress", "Submitted", "Completed"] as const;
export const GRADING_PROGRESS = ["FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"] as const;
export type ActivityProgress = (typeof ACTIVITY_PROGRESS)[number];
export type GradingProgress = (typeof GRADING_PROGRESS)[number];

/** Canvas's score extension (other LMSs ignore it). */
export const CANVAS_SUBMISSION = "https://canvas.instructure.com/lti/submission";

export interface Score {
  userId: string;
  activityProgress: ActivityProgress;
  gradingProgress: GradingProgress;
  scoreGiven?: number;
  scoreMaximum?: number;
  comment?: string;
  /** AGS 2.0: when the learner started and submitted (ISO 8601). Canvas marks lateness by `submittedAt`. */
  submission?: { startedAt?: string; submittedAt?: string };
  /** `prioritize_non_tool_grade` keeps a grade a teacher entered in Canvas. */
  [CANVAS_SUBMISSION]?: { prioritize_non_tool_grade?: boolean; new_submission?: boolean; submitted_at?: string };
}

export interface LineItemQuery {
  resourceLinkId?: string;
  resourceId?: string;
  tag?: string;
  limit?: number;
}

/** A line item to create: everything but the id the LMS gives it. */
export type NewLineItem = Omit<LineItem, "id">;

export interface ScoreQuery {
  userId?: string;
  limit?: number;
}

/** A line item's results: one user's, or `limit` to a page. */
export type ResultsQuery = ScoreQuery;

export interface MembershipQuery {
  role?: string;
  limit?: number;
  resourceLinkId?: string;
}

/** The `next` URL of a previous page; every other parameter is then ignored. */
export interface NextPage {
  url: string;
}

// ---------- checks ----------

export const nonEmpty = z.string().min(1);
const limit = z.number().int().positive().optional();
// An offset or Z is required: a time without a zone means a different instant to every LMS.
const isoDateTime = z.iso.datetime({ offset: true });

export const scoreInput = z
  .object({
    userId: nonEmpty,
    activityProgress: z.enum(ACTIVITY_PROGRESS),
    gradingProgress: z.enum(GRADING_PROGRESS),
    scoreGiven: z.number().finite().min(0).optional(),
    scoreMaximum: z.number().finite().positive().optional(),
    comment: z.string().optional(),
    submission: z.object({ startedAt: isoDateTime.optional(), submittedAt: isoDateTime.optional() }).optional(),
    [CANVAS_SUBMISSION]: z
      .object({ prioritize_non_tool_grade: z.boolean().optional(), new_submission: z.boolean().optional(), submitted_at: isoDateTime.optional() })
      .optional(),
  })
  .refine((s) => s.scoreGiven === undefined || s.scoreMaximum !== undefined, {
    message: "scoreMaximum is required with scoreGiven",
    path: ["scoreMaximum"],
  });

export const newLineItemInput = z.object({
  label: nonEmpty,
  scoreMaximum: z.number().finite().positive(),
  resourceLinkId: nonEmpty.optional(),
  resourceId: nonEmpty.optional(),
  tag: nonEmpty.optional(),
  startDateTime: nonEmpty.optional(),
  endDateTime: nonEmpty.optional(),
  gradesReleased: z.boolean().optional(),
});

export const lineItemQueryInput = z.object({ resourceLinkId: nonEmpty.optional(), resourceId: nonEmpty.optional(), tag: nonEmpty.optional(), limit });
export const resultsQueryInput = z.object({ userId: nonEmpty.optional(), limit });
export const membershipQueryInput = z.object({ role: nonEmpty.optional(), limit, resourceLinkId: nonEmpty.optional() });

export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid";
  // Paths name fields, never values, so this is safe to show.
  return issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message;
}

export function checkInput<T>(schema: z.ZodType<T>, value: unknown, operation: string, kind: LtiaasErrorKind = "refused"): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new LtiaasError({ kind, operation, reason: `invalid request: ${firstIssue(parsed.error)}` });
  return parsed.data;
}
