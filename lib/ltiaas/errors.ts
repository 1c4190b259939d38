/**
 * Every failure of an LTIAAS call becomes one LtiaasError whose `kind` is the outcome the sync engine
 * acts on (see the outcome table in docs/ltiaas.md). The error carries only what is safe to show
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

/** Encoded forms shorter than this are not looked for: they would match ordinary text. */
const MIN_FORM_LENGTH = 6;

/**
 * The characters of base64 (or base64url) text that stand for the secret alone, for each of the
 * three ways it can line up inside longer encoded text (e.g. base64("apiKey:serviceKey")): the
 * first and last characters, which share bits with neighbouring bytes, are left out.
 */
function base64Cores(secret: Buffer, encoding: "base64" | "base64url"): string[] {
  const cores: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), secret]).toString(encoding);
    const start = Math.ceil((shift * 8) / 6);
    const end = Math.floor(((shift + secret.length) * 8) / 6);
    cores.push(encoded.slice(start, end));
  }
  return cores;
}

/** The forms a secret can take when an LMS or a proxy echoes what it was sent. */
function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  const forms = new Set<string>([secret]);
  const uri = encodeURIComponent(secret);
  forms.add(uri);
  forms.add(uri.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
  forms.add(uri.replaceAll("%20", "+"));
  forms.add(new URLSearchParams({ x: secret }).toString().slice(2)); // form encoding
  forms.add(encodeURI(secret));
  forms.add(JSON.stringify(secret).slice(1, -1)); // JSON-escaped
  for (const encoding of ["base64", "base64url"] as const) for (const core of base64Cores(bytes, encoding)) forms.add(core);
  forms.add(bytes.toString("hex"));
  forms.add(bytes.toString("hex").toUpperCase());
  return [...forms].filter((f) => f.length >= Math.min(MIN_FORM_LENGTH, secret.length));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Replaces every occurrence of a secret before text is kept: as it is, and in the encoded forms an
 * LMS may echo (URL- and form-encoded, JSON-escaped, base64 and base64url at any alignment, hex).
 * Hex is matched whatever its case. Longer forms are replaced first.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  const forms = new Set<string>();
  for (const s of secrets) if (s && s.length >= 4) for (const f of secretForms(s)) forms.add(f);
  if (!forms.size) return text;
  const pattern = [...forms].sort((a, b) => b.length - a.length).map(escapeRegExp).join("|");
  const hex = [...new Set(secrets.filter((s): s is string => Boolean(s && s.length >= 4)))].map((s) => Buffer.from(s, "utf8").toString("hex"));
  // Hex in mixed case ("aB3f…") too: case-insensitive for those forms only.
  const hexPattern = hex.length ? new RegExp(hex.map(escapeRegExp).join("|"), "gi") : undefined;
  let out = text.replace(new RegExp(pattern, "g"), "[redacted]");
  if (hexPattern) out = out.replace(hexPattern, "[redacted]");
  return out;
}
