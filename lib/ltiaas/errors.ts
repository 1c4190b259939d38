/**
 * Every failure of an LTIAAS call becomes one LtiaasError whose `kind` is the outcome the sync engine
 * acts on (see the outcome table in ltiaas-reference.md). The error carries only what is safe to show
 * or log: never a header, the API key, an ltik or a service key, and no `cause` (a fetch cause can
 * hold request details).
 */
import { inspect } from "node:util";

export type LtiaasErrorKind =
  | "retry_later"
  | "not_gradable"
  | "needs_relaunch"
  | "not_found"
  | "conflict"
  | "refused"
  | "bad_response";

/** What an answer's rate headers said (each field only when its header came and was readable). */
export interface RateLimit {
  /** `X-Rate-Limit-Remaining`: Canvas bucket units or D2L credits left (may be fractional). */
  remaining?: number;
  /** `X-Rate-Limit-Reset`: seconds until the budget refills. */
  resetSeconds?: number;
  /** `X-Request-Cost`: what this request used. */
  cost?: number;
}

export interface LtiaasErrorInit {
  kind: LtiaasErrorKind;
  /** What was being done, e.g. "postScore"; part of the message. */
  operation: string;
  status?: number;
  retryAfterSeconds?: number;
  code?: string;
  reason?: string;
  fromLms?: boolean;
  rateLimit?: RateLimit;
  /** No connection was made (refused, no such host, no route): nothing reached LTIAAS. */
  unreachable?: boolean;
}

const MAX_REASON_LENGTH = 200;

export class LtiaasError extends Error {
  readonly kind: LtiaasErrorKind;
  readonly operation: string;
  readonly status?: number;
  readonly retryAfterSeconds?: number;
  readonly code?: string;
  readonly reason?: string;
  readonly fromLms: boolean;
  readonly rateLimit?: RateLimit;
  readonly unreachable: boolean;

  constructor(init: LtiaasErrorInit) {
    const reason = init.reason === undefined ? undefined : truncate(init.reason);
    const head = `LTIAAS ${init.operation} failed (${init.status ?? "no response"}, ${init.kind})`;
    super(reason ? `${head}: ${reason}` : head);
    this.name = "LtiaasError";
    this.kind = init.kind;
    this.operation = init.operation;
    if (init.status !== undefined) this.status = init.status;
    if (init.retryAfterSeconds !== undefined) this.retryAfterSeconds = init.retryAfterSeconds;
    if (init.code !== undefined) this.code = init.code;
    if (reason !== undefined) this.reason = reason;
    this.fromLms = init.fromLms ?? false;
    if (init.rateLimit !== undefined) this.rateLimit = { ...init.rateLimit };
    this.unreachable = init.unreachable ?? false;
  }

  toJSON() {
    return {
      name: this.name,
      message: this.message,
      kind: this.kind,
      operation: this.operation,
      status: this.status,
      retryAfterSeconds: this.retryAfterSeconds,
      code: this.code,
      reason: this.reason,
      fromLms: this.fromLms,
      rateLimit: this.rateLimit,
      unreachable: this.unreachable,
    };
  }

  // Fixed shape for logs: the stack plus the safe fields, nothing else that may have been attached.
  [inspect.custom]() {
    return `${this.stack ?? this.message} ${inspect(this.toJSON(), { breakLength: Infinity })}`;
  }
}

/** The outcomes worth trying again later (rate limits, LMS outages, timeouts, ordering conflicts). */
export function isRetryable(err: unknown): boolean {
  return err instanceof LtiaasError && (err.kind === "retry_later" || err.kind === "conflict");
}

export function isLtiaasError(err: unknown): err is LtiaasError {
  return err instanceof LtiaasError;
}

function truncate(text: string): string {
  const clean = text.replace(/\s+/g, " ").trim();
  return clean.length > MAX_REASON_LENGTH ? `${clean.slice(0, MAX_REASON_LENGTH - 1)}…` : clean;
}

/** Replaces every occurrence of a secret (an LMS may echo what it was sent) before text is kept. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join("[redacted]");
  return out;
}
