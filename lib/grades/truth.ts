/**
 * Gradebook truth: how what the LMS holds compares with what Gradesync last sent. One pure rule for
 * the push's read-before-write, timestamp refusals and reconcile: the LMS's `resultScore ÷
 * resultMaximum` against `scoreGiven ÷ scoreMaximum` of the revision last sent, within 0.001, score
 * only; a result without a score counts as no result; a value the LMS cut to its maximum counts as
 * equal (noted `clipped`).
 */

/** What the LMS listed for one user (score null: a result without a grade). */
export interface LmsResult {
  score: number | null;
  maximum: number | null;
}

/** A score as a fraction of its maximum. */
export interface Fraction {
  given: number | null;
  maximum: number | null;
}

export type Comparison =
  /** The LMS has no grade for the user. */
  | "no_result"
  /** It holds what we last sent. */
  | "equal"
  /** It holds what we last sent, cut to its maximum. */
  | "clipped"
  /** It holds a grade we never sent (a person's). */
  | "never_sent"
  /** It holds another value than the one we last sent (a person changed it). */
  | "differs";

export const SAME_WITHIN = 0.001;

const ratio = (given: number | null, maximum: number | null): number | null =>
  given === null || maximum === null || !(maximum > 0) ? null : given / maximum;

export function sameValue(a: Fraction, b: LmsResult): boolean {
  const x = ratio(a.given, a.maximum);
  const y = ratio(b.score, b.maximum);
  return x !== null && y !== null && Math.abs(x - y) <= SAME_WITHIN;
}

/** `sent`: the score of the revision last sent, null when none was. */
export function compare(sent: Fraction | null, lms: LmsResult | null | undefined): Comparison {
  if (!lms || lms.score === null) return "no_result";
  if (!sent || sent.given === null) return "never_sent";
  if (sameValue(sent, lms)) return "equal";
  const ours = ratio(sent.given, sent.maximum);
  const theirs = ratio(lms.score, lms.maximum);
  if (ours !== null && theirs !== null && ours > 1 && Math.abs(theirs - 1) <= SAME_WITHIN) return "clipped";
  return "differs";
}

/** Whether the LMS still holds what Gradesync sent (so a new revision may replace it). */
export const holdsOurs = (c: Comparison) => c === "no_result" || c === "equal" || c === "clipped";

/**
 * Before writing a new revision: send it when the LMS holds what Gradesync last sent (or nothing),
 * or already holds this very revision (a send whose answer was never recorded, e.g. after a crash);
 * otherwise a person set the grade there, and it is kept.
 */
export function mayWrite(sent: Fraction | null, sending: Fraction, lms: LmsResult | null | undefined): { write: boolean; comparison: Comparison } {
  const comparison = compare(sent, lms);
  return { write: holdsOurs(comparison) || (lms != null && sameValue(sending, lms)), comparison };
}
