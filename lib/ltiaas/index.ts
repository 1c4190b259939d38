export {
  createLtiaasClient,
  ltiaas,
  ltikHeader,
  serviceKeyHeader,
  DEFAULT_TIMEOUT_MS,
  ACTIVITY_PROGRESS,
  GRADING_PROGRESS,
  CANVAS_SUBMISSION,
  type AnswerMeta,
  type CallOptions,
  type LtiaasAuth,
  type LtiaasClient,
  type LtiaasClientOptions,
  type ActivityProgress,
  type GradingProgress,
  type LineItemQuery,
  type NewLineItem,
  type Score,
  type ScoreQuery,
  type ResultsQuery,
  type ResultsPage,
  type MembershipQuery,
  type MembershipsPage,
  type NextPage,
} from "./client";
export { classify, parseRateLimit, parseRetryAfter, readErrorBody, throttled, timestampRefusal, transportReason, unreachable, type CallKind, type ErrorAnswer, type ErrorBody, type Outcome } from "./classify";
export { createUndiciTransport, fetchTransport, DEFAULT_CONNECTIONS, type LtiaasTransport, type TransportAnswer, type TransportRequest, type UndiciTransportOptions } from "./transport";
export { LtiaasError, isLtiaasError, isRetryable, type LtiaasErrorInit, type LtiaasErrorKind, type RateLimit } from "./errors";
export type { IdToken, LineItem, Result, Member, MemberStatus, MembershipContext } from "./schemas";
