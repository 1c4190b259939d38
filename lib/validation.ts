/**
 * The input rules every edge shares (the README's "nothing a client sends may reach the database
 * as a 500"): Postgres refuses a NUL in text and jsonb, a lone UTF-16 surrogate in jsonb, a btree
 * index row over ~2.7 kB (so ids are capped at 255 code points: at most 1,020 bytes in UTF-8), and
 * years its timestamptz cannot hold. A client's value that breaks a rule is refused (400 naming the
 * field); text from the LMS is cleaned instead (see cleanText), except ids, which must parse.
 */
import { z } from "zod";

/** LTI caps ids at 255 characters; counted in code points, as a person counts characters. */
export const MAX_ID_CODE_POINTS = 255;
/** The earliest date a client may send (scores, `since`); the latest is now + DATE_SLACK_MS. */
export const MIN_DATE = new Date("2000-01-01T00:00:00.000Z");
/** Clocks differ: a grader's "now" may run a little ahead of ours. */
export const DATE_SLACK_MS = 5 * 60_000;

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, "g");
const SURROGATE_PAIRS = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

/** True when the string is valid Unicode (no lone surrogate): what JSON-to-jsonb and UTF-8 need. */
export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

export function hasNul(s: string): boolean {
  return s.includes("\u0000");
}

/** Characters as a person counts them (an emoji is one, not two UTF-16 units). */
export function codePointLength(s: string): number {
  return s.length - (s.match(SURROGATE_PAIRS)?.length ?? 0);
}

/** Text Postgres can store: lone surrogates become U+FFFD, NUL characters go. For LMS data. */
export function cleanText(s: string): string {
  return s.replace(LONE_SURROGATES, "\uFFFD").replaceAll("\u0000", "");
}

/** Like cleanText, for an optional value; what is left empty counts as absent. */
export function cleanOptional(s: string | null | undefined): string | undefined {
  if (s === null || s === undefined) return undefined;
  return cleanText(s) || undefined;
}

/** A string a client sends: valid Unicode, no NUL, at most `max` code points. */
export function text(max: number) {
  return z
    .string()
    .refine(isWellFormed, "must be valid Unicode (no lone surrogate)")
    .refine((v) => !hasNul(v), "must not contain NUL characters")
    .refine((v) => codePointLength(v) <= max, `must be at most ${max} characters`);
}

/** An LTI id (platform, context, resource link, user) or a delivery id: trimmed, non-empty, ≤ 255 characters. */
export function ltiId() {
  return z
    .string()
    .trim()
    .min(1, "required")
    .refine(isWellFormed, "must be valid Unicode (no lone surrogate)")
    .refine((v) => !hasNul(v), "must not contain NUL characters")
    .refine((v) => codePointLength(v) <= MAX_ID_CODE_POINTS, `must be at most ${MAX_ID_CODE_POINTS} characters`);
}

/**
 * True for an id from the LMS that can be stored and keyed by as it is: non-blank, valid Unicode, no
 * NUL, at most 255 characters. (Not trimmed: the LMS's id is what it is; a client's is trimmed by ltiId.)
 */
export function isStorableId(v: unknown): v is string {
  return typeof v === "string" && v.trim() !== "" && isWellFormed(v) && !hasNul(v) && codePointLength(v) <= MAX_ID_CODE_POINTS;
}

/** The window a client's date must lie in: 2000-01-01 to five minutes after `now`. */
export function dateInBounds(at: Date, now = new Date()): boolean {
  const t = at.getTime();
  return Number.isFinite(t) && t >= MIN_DATE.getTime() && t <= now.getTime() + DATE_SLACK_MS;
}

const BOUNDS_MESSAGE = "must lie between 2000-01-01 and five minutes from now";

/**
 * An ISO 8601 date-time with an offset, within dateInBounds (checked when parsed: "now" is the
 * moment of the request). A far-future date would freeze a ledger row; year 0 breaks timestamptz.
 */
export function boundedDate() {
  return z.iso.datetime({ offset: true }).refine((v) => dateInBounds(new Date(v)), BOUNDS_MESSAGE);
}

/** Same window for a Date already parsed (a form's or a CLI's date). */
export function boundedDateMessage(at: Date, now = new Date()): string | null {
  return dateInBounds(at, now) ? null : BOUNDS_MESSAGE;
}

// Postgres's ISO DateStyle output of a timestamptz: "2026-11-27 10:00:00.123+00" (offset ±HH[:MM[:SS]]).
const PG_TIMESTAMPTZ = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?$/;

/**
 * True for a timestamptz as Postgres writes it (or 'infinity') whose fields make a real instant:
 * a cursor that passes a shape check but names month 13 would make the cast throw.
 */
export function isPgTimestamptzText(s: string): boolean {
  if (s === "infinity") return true;
  const m = PG_TIMESTAMPTZ.exec(s);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const [offH, offM, offS] = [m[9], m[10], m[11]].map((v) => Number(v ?? 0));
  if (year < 1 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return false;
  if (offH > 15 || offM > 59 || offS > 59) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day >= 1 && day <= daysInMonth;
}
