/**
 * What an LTIAAS answer to a score post means for its row — one pure mapping (the outcome table of
 * docs/ltiaas.md): sent; skipped for a reason (not gradable); stop the link (the key needs a
 * relaunch, the line item is gone); a timestamp refusal to resolve by reading back; or retry later —
 * holding the whole platform when the answer asks everyone to wait, and without using up an attempt
 * when it is only the platform's pace or when nothing reached LTIAAS at all.
 */
import { LtiaasError } from "../../ltiaas/errors";
import { throttlesPlatform } from "../../ltiaas/gate";
import { MIN_RETRY_AFTER_MS, UNREACHABLE_HOLD_MS } from "./deps";

export type Outcome =
  | { kind: "sent" }
  | { kind: "skipped"; reason: string; status: number | null }
  | { kind: "stop"; stop: "needs_relaunch"; code: string; status: number | null }
  | { kind: "stop"; stop: "not_found"; status: number | null }
  /** A timestamp refusal (Canvas 400, Moodle 409): someone wrote later, or we did. Read back to know. */
  | { kind: "conflict"; reason: string; status: number | null }
  | {
      kind: "retry";
      reason: string;
      status: number | null;
      /** Not before this (the answer's Retry-After, at least MIN_RETRY_AFTER_MS). */
      waitMs?: number;
      /** The whole platform waits this long (a throttle, or any Retry-After). */
      holdMs?: number;
      /** Rate limits are the platform's pace, not this row's fault: they do not use up attempts. */
      countsAttempt: boolean;
      /** No connection was made: nothing reached LTIAAS (the run's summary says so). */
      unreachable?: boolean;
    };

/** `error`: what postScore threw, or undefined when it answered 2xx. */
export function outcomeOf(error: unknown, backoffBaseMs: number): Outcome {
  if (error === undefined) return { kind: "sent" };
  const e = error instanceof LtiaasError ? error : undefined;
  const kind = e?.kind ?? "retry_later";
  const status = e?.status ?? null;
  if (kind === "not_gradable") return { kind: "skipped", reason: `not_gradable: ${e?.reason ?? `HTTP ${e?.status ?? "?"}`}`, status };
  if (kind === "needs_relaunch") return { kind: "stop", stop: "needs_relaunch", code: e?.code ?? "unauthorized", status };
  if (kind === "not_found") return { kind: "stop", stop: "not_found", status };
  if (kind === "conflict") return { kind: "conflict", reason: `conflict: ${e?.reason ?? `HTTP ${status ?? "?"}`}`, status };
  // Nothing was sent: not the row's fault. The row waits a moment only (the next run may find LTIAAS
  // back); the platform is held, so this run stops sending instead of retrying row after row.
  if (e?.unreachable)
    return {
      kind: "retry",
      reason: `retry_later: ${e.reason ?? "connection failed"}`,
      status: null,
      waitMs: MIN_RETRY_AFTER_MS,
      holdMs: UNREACHABLE_HOLD_MS,
      countsAttempt: false,
      unreachable: true,
    };
  const rateLimited = e?.status === 429 || (e?.status === 403 && kind === "retry_later");
  // `Retry-After: 0` (or an HTTP date already past, e.g. a skewed LMS clock) still means "not now":
  // without a floor the row would be due at once and the run would hammer the platform.
  const waitMs = e?.retryAfterSeconds !== undefined ? Math.max(MIN_RETRY_AFTER_MS, e.retryAfterSeconds * 1000) : undefined;
  const reason = e ? `${kind}${e.status ? `: HTTP ${e.status}` : e.reason ? `: ${e.reason}` : ""}` : "retry_later: transport";
  return {
    kind: "retry",
    reason,
    status,
    waitMs,
    // A throttle without Retry-After holds the platform for a short pause.
    holdMs: e && throttlesPlatform(e) ? (waitMs ?? backoffBaseMs) : undefined,
    countsAttempt: !rateLimited,
  };
}
