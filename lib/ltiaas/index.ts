export {
  createLtiaasClient,
  ltiaas,
  ltikHeader,
  serviceKeyHeader,
  parseRetryAfter,
  DEFAULT_TIMEOUT_MS,
  ACTIVITY_PROGRESS,
  GRADING_PROGRESS,
  type LtiaasAuth,
  type LtiaasClient,
  type LtiaasClientOptions,
  type ActivityProgress,
  type GradingProgress,
  type LineItemQuery,
  type NewLineItem,
  type Score,
  type ScoreQuery,
  type MembershipQuery,
  type MembershipsPage,
  type NextPage,
} from "./client";
export { LtiaasError, isLtiaasError, isRetryable, type LtiaasErrorInit, type LtiaasErrorKind } from "./errors";
export type { IdToken, LineItem, Result, Member, MemberStatus, MembershipContext } from "./schemas";
