/** The client's interface: what each method takes and gives, and the options every call accepts. */
import type { RateLimit } from "./errors";
import type { LineItemQuery, MembershipQuery, NewLineItem, NextPage, ResultsQuery, Score, ScoreQuery } from "./inputs";
import type { LtiaasTransport } from "./transport";
import type { IdToken, LineItem, Member, MembershipContext, Result } from "./schemas";

export type LtiaasAuth = { ltik: string } | { serviceKey: string };

export interface LtiaasClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Per request, body included. Default 20 s. */
  timeoutMs?: number;
  /** Connections to the LTIAAS origin at most (the default transport's pool). Default 32. */
  connections?: number;
  /** Sends the requests instead of the default undici pool (tests, benches). */
  transport?: LtiaasTransport;
  /** Sends the requests through this fetch (a test's stub); `transport` wins when both are given. */
  fetch?: typeof fetch;
}

/** What one HTTP answer (or a failure to get one) said, for pacing. */
export interface AnswerMeta {
  /** null: no answer (timeout, connection refused or reset). */
  status: number | null;
  /** From sending to the last byte of the body (or to the failure), in milliseconds. */
  latencyMs: number;
  /** Present only when a rate header came and was readable. */
  rateLimit?: RateLimit;
}

export interface CallOptions {
  /**
   * Runs right before each request leaves — after any queueing a wrapping client adds (a platform's
   * slots, a Retry-After) — and cancels it by throwing (its error is what the call rejects with).
   * A call that follows pages runs it before every page.
   */
  beforeSend?: () => Promise<void>;
  /**
   * Called once per HTTP answer, success or error, and once per transport failure, before the call
   * settles. Not called when nothing was sent (an invalid input, no key, beforeSend threw). An
   * onAnswer that throws is ignored: what the LMS answered stands.
   */
  onAnswer?: (answer: AnswerMeta) => void;
}

export interface MembershipsPage {
  context?: MembershipContext;
  members: Member[];
  next?: string;
}

export interface ResultsPage {
  results: Result[];
  next?: string;
}

export interface LtiaasClient {
  getIdToken(ltik: string, opts?: CallOptions): Promise<IdToken>;
  listLineItems(auth: LtiaasAuth, q?: LineItemQuery, opts?: CallOptions): Promise<LineItem[]>;
  listLineItemsPage(auth: LtiaasAuth, q?: LineItemQuery | NextPage, opts?: CallOptions): Promise<{ lineItems: LineItem[]; next?: string }>;
  getLineItem(auth: LtiaasAuth, id: string, opts?: CallOptions): Promise<LineItem>;
  createLineItem(auth: LtiaasAuth, input: NewLineItem, opts?: CallOptions): Promise<LineItem>;
  postScore(auth: LtiaasAuth, lineItemId: string, score: Score, opts?: CallOptions): Promise<void>;
  /** Every result of a line item (all pages). */
  listScores(auth: LtiaasAuth, lineItemId: string, q?: ScoreQuery, opts?: CallOptions): Promise<Result[]>;
  /** One page of a line item's results (AGS results: `GET /api/lineitems/:id/scores`). */
  listResultsPage(auth: LtiaasAuth, lineItemId: string, q?: ResultsQuery | NextPage, opts?: CallOptions): Promise<ResultsPage>;
  listMembershipsPage(auth: LtiaasAuth, q?: MembershipQuery | NextPage, opts?: CallOptions): Promise<MembershipsPage>;
}
