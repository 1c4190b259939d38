/**
 * What an LTIAAS answer means: pure functions from a status, a few headers and a body to the outcome
 * the sync engine acts on (the table in docs/ltiaas.md), and to what the answer says
 * about the platform's pace. No I/O here, so every row of the table is a unit test.
 */
import type { LtiaasErrorInit, RateLimit } from "./errors";
import { ltiaasErrorBodySchema } from "./schemas";

/** The request an answer belongs to, as far as its meaning depends on it. */
export interface CallKind {
  auth: "ltik" | "serviceKey";
  /** `POST /api/lineitems/:id/scores`: 400/422 say something about the score. */
  scorePost: boolean;
}

/** An HTTP answer that was not a 2xx, reduced to what decides its meaning. */
export interface ErrorAnswer {
  status: number;
  /** The body as text ("" when there was none). */
  text: string;
  /** `Retry-After`, raw. */
  retryAfter?: string | null;
  rateLimit?: RateLimit;
}

export type Outcome = Omit<LtiaasErrorInit, "operation">;

// ---------- headers ----------

/** `Retry-After` as seconds: an integer, or an HTTP-date turned into seconds from now. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  // Date.parse would read "-5" as a year.
  if (/^[-+]?\d+(\.\d+)?$/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

// Number() would take "", "0x1f", "1e3" and "Infinity": only plain decimals are read.
const DECIMAL = /^[-+]?\d+(\.\d+)?$/;

function decimal(value: string | null | undefined, min = -Infinity): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (!DECIMAL.test(v)) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= min ? n : undefined;
}

/**
 * The rate headers Canvas and D2L send (LTIAAS may or may not relay them): `X-Rate-Limit-Remaining`
 * (a float: Canvas bucket units, D2L credits; may go below 0 on Canvas), `X-Rate-Limit-Reset`
 * (seconds) and `X-Request-Cost`. Undefined when none is there or readable; a garbage value is
 * left out, never thrown.
 */
export function parseRateLimit(header: (name: string) => string | null | undefined): RateLimit | undefined {
  const remaining = decimal(header("x-rate-limit-remaining"));
  const resetSeconds = decimal(header("x-rate-limit-reset"), 0);
  const cost = decimal(header("x-request-cost"), 0);
  if (remaining === undefined && resetSeconds === undefined && cost === undefined) return undefined;
  const out: RateLimit = {};
  if (remaining !== undefined) out.remaining = remaining;
  if (resetSeconds !== undefined) out.resetSeconds = resetSeconds;
  if (cost !== undefined) out.cost = cost;
  return out;
}

// ---------- error bodies ----------

export interface ErrorBody {
  /** False when the body has LTIAAS's own error shape; anything else came from the LMS. */
  fromLms: boolean;
  /** LTIAAS's error code (`INVALID_SERVICE_KEY_AUTH`…), when its message is one. */
  code?: string;
  reason?: string;
}

const CODE_LIKE = /^[A-Z][A-Z0-9_]*$/;

/** A readable reason from whatever an LMS sent: JSON with a message somewhere, HTML, or text. */
function lmsReason(text: string): string | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  try {
    const reason = findMessage(JSON.parse(trimmed), 0);
    if (reason) return reason;
  } catch {
    // Not JSON: fall through to text.
  }
  const plain = trimmed
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return plain || undefined;
}

function findMessage(value: unknown, depth: number): string | undefined {
  if (depth > 4 || value === null || value === undefined) return undefined;
  if (typeof value === "string") return value.trim() || undefined;
  if (Array.isArray(value)) {
    for (const v of value) {
      const m = findMessage(v, depth + 1);
      if (m) return m;
    }
    return undefined;
  }
  if (typeof value === "object") {
    const o = value as Record<string, unknown>;
    // Canvas: {errors:[{message}]}; Moodle: {message} or {error}; D2L: {detail}/{title}.
    for (const key of ["message", "errors", "error", "error_description", "detail", "details", "description", "title", "reason"]) {
      const m = findMessage(o[key], depth + 1);
      if (m) return m;
    }
  }
  return undefined;
}

/** LTIAAS's `{status, error, details: {message, description}}`, or the LMS's own body. */
export function readErrorBody(text: string): ErrorBody {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { fromLms: true, reason: lmsReason(text) };
  }
  const ltiaas = ltiaasErrorBodySchema.safeParse(json);
  if (!ltiaas.success) return { fromLms: true, reason: lmsReason(text) };
  const { error, details } = ltiaas.data;
  const message = details.message?.trim();
  const code = message && CODE_LIKE.test(message) ? message : undefined;
  const reason = details.description?.trim() || (code ? undefined : message) || error;
  return { fromLms: false, code, reason };
}

// ---------- the outcome table ----------

const RATE_LIMIT = /rate limit exceeded/i;
const TIMESTAMP = /timestamp/i;
const ORDERING_WORDS = /\b(before|earlier|older)\b/i;

/** A 429, or Canvas's throttle: 403 "Rate Limit Exceeded" or 403 with no bucket left (no Retry-After). */
export function throttled({ status, text, rateLimit }: Pick<ErrorAnswer, "status" | "text" | "rateLimit">): boolean {
  if (status === 429) return true;
  if (status !== 403) return false;
  if (RATE_LIMIT.test(text)) return true;
  return rateLimit?.remaining !== undefined && rateLimit.remaining <= 0;
}

/**
 * The LMS refused a score because it holds a newer one: Canvas `400` "Provided timestamp … before
 * last updated timestamp", Moodle `409` "Refusing score with an earlier timestamp" (either may come
 * wrapped in LTIAAS's shape). The engine reads the result back to decide what it was.
 */
export function timestampRefusal(call: CallKind, { status, text }: Pick<ErrorAnswer, "status" | "text">): boolean {
  return call.scorePost && (status === 400 || status === 409 || status === 422) && TIMESTAMP.test(text) && ORDERING_WORDS.test(text);
}

/** LTIAAS's refusals of the platform or service: they say nothing about the score. */
const ACCOUNT_CODES = new Set(["UNREGISTERED_OR_INACTIVE_PLATFORM", "INACTIVE_SERVICE", "SERVICE_NOT_AVAILABLE_FOR_CONTEXT"]);

export function classify(call: CallKind, answer: ErrorAnswer, now = Date.now()): Outcome {
  const { status } = answer;
  const body = readErrorBody(answer.text);
  const retryAfterSeconds = parseRetryAfter(answer.retryAfter, now);
  const base: Outcome = { kind: "bad_response", status, code: body.code, reason: body.reason, fromLms: body.fromLms };
  if (answer.rateLimit) base.rateLimit = answer.rateLimit;

  if (throttled(answer) || status >= 500 || status === 408) return { ...base, kind: "retry_later", retryAfterSeconds };
  // Someone wrote later, or two updates in one second: wait at least a second; the engine reads back.
  if (status === 409 || timestampRefusal(call, answer))
    return { ...base, kind: "conflict", retryAfterSeconds: Math.max(1, retryAfterSeconds ?? 1) };
  if (status === 404) return { ...base, kind: "not_found" };
  if (status === 401) return { ...base, kind: call.auth === "serviceKey" ? "needs_relaunch" : "refused" };
  if (call.scorePost && (status === 400 || status === 422)) {
    // A 400 in LTIAAS's shape is LTIAAS refusing a field we sent, and an account refusal is about the
    // platform: neither says the score cannot be graded, and skipping it would lose it for good.
    if (!body.fromLms && (status === 400 || (body.code && ACCOUNT_CODES.has(body.code)))) return { ...base, kind: "refused" };
    return { ...base, kind: "not_gradable" };
  }
  if (status >= 400 && status < 500) return { ...base, kind: "refused" };
  // 1xx/3xx: redirects are not followed (they could carry the Authorization header elsewhere).
  return { ...base, kind: "bad_response", reason: body.reason ?? `unexpected HTTP ${status}` };
}

/** The error code of a transport failure: its own, its cause's, or (several addresses tried) the first one's. */
function transportCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown }; errors?: { code?: unknown }[] } | null | undefined;
  const code = typeof e?.code === "string" ? e.code : typeof e?.cause?.code === "string" ? e.cause.code : Array.isArray(e?.errors) ? e.errors[0]?.code : undefined;
  return typeof code === "string" && /^[A-Z0-9_]{1,40}$/.test(code) ? code : undefined;
}

/** A failure before any answer: only the error's code, since a transport error's message may quote the request. */
export function transportReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: unknown } | null | undefined;
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return `timed out after ${timeoutMs} ms`;
  const code = transportCode(err);
  return code ? `connection failed (${code})` : "connection failed";
}

/**
 * Failures where no connection was ever made — refused, no such host, no route, the connect itself
 * timed out — so nothing reached LTIAAS. A reset or a timeout once connected may have been
 * processed: those are not in this list.
 */
const NOT_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

/** True when the request never reached LTIAAS (see NOT_CONNECTED). */
export function unreachable(err: unknown): boolean {
  const e = err as { name?: unknown } | null | undefined;
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return false;
  const code = transportCode(err);
  return code !== undefined && NOT_CONNECTED.has(code);
}
