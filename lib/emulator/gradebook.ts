/**
 * The LMS's gradebook behind the AGS score and result endpoints, played per LMS family: what a score
 * post does to a cell (or why the LMS refuses it), what a person's hand edit does, and which cells AGS
 * results list. The facts are in docs/ltiaas.md (Canvas's prioritize_non_tool_grade and late
 * marking, Moodle's same-second refusal, D2L's clipping, dropped and discarded grades).
 */
import { ltiaasError, urlPart } from "./http";
import type { LmsState, StoredLineItem } from "./state";
import type {
  ActivityProgress,
  CanvasSubmissionExtension,
  Faults,
  GradebookCell,
  GradingProgress,
  LmsFamily,
  ScoreEffect,
  ScorePost,
  ScoreSubmission,
} from "./types";

export const CANVAS_SUBMISSION_EXTENSION = "https://canvas.instructure.com/lti/submission";

/** Canvas refuses a submitted_at further ahead than this. */
const CANVAS_FUTURE_SLACK_MS = 60_000;

/** One gradebook cell (line item × user) as the LMS holds it. */
export interface Cell {
  userId: string;
  /** On the column's scale; undefined: no grade. */
  points?: number;
  comment?: string;
  setBy: "tool" | "person";
  /** ms of the cell's last change, a tool's or a person's (Moodle compares score timestamps with it). */
  setAt: number;
  /** A person cleared it: results do not list it. */
  cleared: boolean;
  toolResult: boolean;
  clipped: boolean;
  submittedAt?: string;
  attempts: number;
}

export function familyFromCode(productFamilyCode: string | undefined): LmsFamily {
  const code = (productFamilyCode ?? "").toLowerCase();
  if (code === "canvas") return "canvas";
  if (code === "moodle") return "moodle";
  if (code === "desire2learn" || code === "d2l" || code === "brightspace") return "d2l";
  return "generic";
}

/** A score body as LTIAAS validated it. */
export interface ScoreInput {
  userId: string;
  activityProgress: ActivityProgress;
  gradingProgress: GradingProgress;
  scoreGiven?: number;
  scoreMaximum?: number;
  comment?: string;
  submission?: ScoreSubmission;
  /** Canvas's extension when the body carried an object under its key. */
  canvasSubmission?: CanvasSubmissionExtension;
}

export interface ScoreContext {
  state: LmsState;
  faults: Faults;
  now: number;
  auth: "ltik" | "serviceKey";
}

// Canvas reads these flags as Rails booleans: true/"true", false/"false".
const isTrue = (v: unknown) => v === true || v === "true";
const isFalse = (v: unknown) => v === false || v === "false";
const iso = (ms: number) => new Date(ms).toISOString();

function lmsRefusal(status: 400 | 409, message: string): Response {
  return ltiaasError(status, message);
}

/** Canvas's own checks of a submission time (it refuses one it cannot read or that lies in the future). */
function canvasSubmittedAtRefusal(input: ScoreInput, now: number): Response | undefined {
  const candidates = [input.submission?.submittedAt, input.canvasSubmission?.submitted_at];
  for (const value of candidates) {
    if (value === undefined || value === null || value === "") continue;
    const at = typeof value === "string" ? Date.parse(value) : NaN;
    if (Number.isNaN(at)) return lmsRefusal(400, `Provided submitted_at timestamp of ${String(value)} not a valid timestamp`);
    if (at > now + CANVAS_FUTURE_SLACK_MS) return lmsRefusal(400, `Provided submitted_at timestamp of ${String(value)} in the future`);
  }
  return undefined;
}

function takeTimestampRefusal(faults: Faults, platformId: string, userId: string): boolean {
  const f = faults.timestampRefusal;
  if (!f || f.remaining <= 0) return false;
  if (f.platformId !== undefined && f.platformId !== platformId) return false;
  if (f.userId !== undefined && f.userId !== userId) return false;
  f.remaining -= 1;
  return true;
}

function newCell(userId: string, now: number): Cell {
  return { userId, setBy: "tool", setAt: now, cleared: false, toolResult: false, clipped: false, attempts: 0 };
}

/**
 * What the LMS does with a valid score for a gradable member: a refusal (the response), or the effect
 * of the 204 it answers (the cell is updated accordingly and the post recorded).
 */
export function receiveScore(item: StoredLineItem, input: ScoreInput, ctx: ScoreContext): Response | ScoreEffect {
  const { state, faults, now } = ctx;
  const family = state.lmsFamily(item.platformId);
  const knobs = state.gradebookKnobs(item);
  const cells = state.cellsOf(item.id);
  const cell = cells.get(input.userId);

  let effect: ScoreEffect | undefined;
  // A concluded course answers 204 and keeps nothing: no check applies.
  if (knobs.discardScores) effect = "discarded";

  if (!effect) {
    if (family === "canvas") {
      const refusal = canvasSubmittedAtRefusal(input, now);
      if (refusal) return refusal;
    }
    const stamp = iso(now);
    if (takeTimestampRefusal(faults, item.platformId, input.userId)) {
      // As if the LMS's record were newer than LTIAAS's stamp (clocks apart, or another writer).
      if (family === "canvas") {
        const updated = iso(Math.max(cell?.setAt ?? 0, now + 1000));
        return lmsRefusal(400, `Provided timestamp of ${stamp} before last updated timestamp of ${updated}`);
      }
      return lmsRefusal(409, `Refusing score with an earlier timestamp for item ${item.id} and user ${input.userId}`);
    }
    // Moodle keeps whole seconds and refuses unless the score is newer than the cell's last change.
    if ((family === "moodle" || faults.moodleSameSecond) && cell && Math.floor(now / 1000) <= Math.floor(cell.setAt / 1000)) {
      return lmsRefusal(409, `Refusing score with an earlier timestamp for item ${item.id} and user ${input.userId}`);
    }
    if (knobs.dropZeroScores && input.scoreGiven === 0) effect = "dropped_zero";
  }

  if (!effect) effect = applyToCell(item, input, cell ?? newCell(input.userId, now), cells, family, now);

  const post: ScorePost = {
    lineItemId: item.id,
    userId: input.userId,
    activityProgress: input.activityProgress,
    gradingProgress: input.gradingProgress,
    timestamp: iso(now),
    auth: ctx.auth,
    effect,
  };
  if (input.scoreGiven !== undefined) post.scoreGiven = input.scoreGiven;
  if (input.scoreMaximum !== undefined) post.scoreMaximum = input.scoreMaximum;
  if (input.comment !== undefined) post.comment = input.comment;
  if (input.submission !== undefined) post.submission = input.submission;
  if (input.canvasSubmission !== undefined) post.canvasSubmission = input.canvasSubmission;
  state.recordScore(post);
  return effect;
}

function applyToCell(
  item: StoredLineItem,
  input: ScoreInput,
  cell: Cell,
  cells: Map<string, Cell>,
  family: LmsFamily,
  now: number,
): ScoreEffect {
  cells.set(cell.userId, cell);
  const ext = family === "canvas" ? input.canvasSubmission : undefined;

  if (family === "canvas") {
    // Each new submission is an attempt with its own time (which decides lateness); new_submission
    // false grades the attempt already there.
    if (!isFalse(ext?.new_submission)) {
      const given = input.submission?.submittedAt ?? (typeof ext?.submitted_at === "string" && ext.submitted_at ? ext.submitted_at : undefined);
      const submittedAt = given ?? iso(now);
      cell.attempts += 1;
      cell.submittedAt = submittedAt;
    }
  } else if (input.submission?.submittedAt !== undefined) {
    cell.submittedAt = input.submission.submittedAt;
  }

  const handGrade = cell.setBy === "person" && !cell.cleared && cell.points !== undefined;
  cell.toolResult = true;
  if (family === "canvas" && handGrade && isTrue(ext?.prioritize_non_tool_grade)) return "kept_hand_grade";

  // The LMS keeps a grade only when it is final, on its own scale; a score that is not FullyGraded
  // clears it, and one without a comment clears the comment.
  let points: number | undefined;
  if (input.gradingProgress === "FullyGraded" && input.scoreGiven !== undefined && input.scoreMaximum) {
    points = (input.scoreGiven * item.scoreMaximum) / input.scoreMaximum;
  }
  let clipped = false;
  if (family === "d2l" && points !== undefined && points > item.scoreMaximum) {
    points = item.scoreMaximum;
    clipped = true;
  }
  cell.points = points;
  cell.comment = input.comment;
  cell.setBy = "tool";
  cell.setAt = now;
  cell.cleared = false;
  cell.clipped = clipped;
  return clipped ? "clipped" : "stored";
}

/** A person edits a cell by hand: a value on the column's scale, or null to clear it. */
export function handEdit(state: LmsState, item: StoredLineItem, userId: string, value: number | null, now: number, comment?: string): void {
  if (value !== null && (typeof value !== "number" || !Number.isFinite(value) || value < 0)) {
    throw new Error(`A hand grade must be a number ≥ 0 or null (got ${String(value)})`);
  }
  const cells = state.cellsOf(item.id);
  const cell = cells.get(userId) ?? newCell(userId, now);
  cells.set(userId, cell);
  cell.setBy = "person";
  cell.setAt = now;
  cell.clipped = false;
  if (value === null) {
    cell.points = undefined;
    cell.cleared = true;
  } else {
    cell.points = value;
    cell.cleared = false;
    if (comment !== undefined) cell.comment = comment;
  }
}

/**
 * Canvas: submitted after the due date. Judged against the due date now, as Canvas recomputes
 * lateness when a due date moves.
 */
export function isLate(item: StoredLineItem, cell: Cell, family: LmsFamily): boolean {
  if (family !== "canvas" || item.endDateTime === undefined || cell.submittedAt === undefined) return false;
  return Date.parse(cell.submittedAt) > Date.parse(item.endDateTime);
}

/** Whether AGS results list the cell. Canvas lists a hand grade only once a tool result exists. */
export function isListed(cell: Cell, family: LmsFamily): boolean {
  return !cell.cleared && (family !== "canvas" || cell.toolResult);
}

/** The AGS result of a listed cell. */
export function resultOf(item: StoredLineItem, cell: Cell): Record<string, unknown> {
  const row: Record<string, unknown> = { id: `${item.id}/results/${urlPart(cell.userId)}`, userId: cell.userId, scoreOf: item.id };
  if (cell.points !== undefined) {
    row.resultScore = cell.points;
    row.resultMaximum = item.scoreMaximum;
  }
  if (cell.comment !== undefined) row.comment = cell.comment;
  return row;
}

export function publicCell(item: StoredLineItem, cell: Cell, family: LmsFamily): GradebookCell {
  const out: GradebookCell = {
    userId: cell.userId,
    resultMaximum: item.scoreMaximum,
    setBy: cell.setBy,
    setAt: iso(cell.setAt),
    listed: isListed(cell, family),
    toolResult: cell.toolResult,
    clipped: cell.clipped,
    late: isLate(item, cell, family),
    attempts: cell.attempts,
  };
  if (cell.points !== undefined) out.resultScore = cell.points;
  if (cell.comment !== undefined) out.comment = cell.comment;
  if (cell.submittedAt !== undefined) out.submittedAt = cell.submittedAt;
  return out;
}
