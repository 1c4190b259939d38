/**
 * The typed LTIAAS client: one function per endpoint the tool uses, every response checked by zod,
 * every failure turned into an LtiaasError whose kind is the sync engine's outcome (classify.ts
 * decides it), and every answer reported to the caller's `onAnswer` for pacing. Requests travel
 * through transport.ts. It never logs: the Authorization header carries the API key.
 */
import { z } from "zod";
import { env } from "../env";
import { classify, parseRateLimit, transportReason } from "./classify";
import { LtiaasError, redact, type LtiaasErrorInit, type LtiaasErrorKind, type RateLimit } from "./errors";
import {
  checkInput,
  firstIssue,
  lineItemQueryInput,
  membershipQueryInput,
  newLineItemInput,
  nonEmpty,
  resultsQueryInput,
  scoreInput,
  type LineItemQuery,
  type MembershipQuery,
  type NewLineItem,
  type NextPage,
  type ResultsQuery,
  type Score,
  type ScoreQuery,
} from "./inputs";
import { createUndiciTransport, fetchTransport, type LtiaasTransport } from "./transport";
import {
  idTokenSchema,
  lineItemSchema,
  lineItemsPageSchema,
  membershipsPageSchema,
  resultsPageSchema,
  type IdToken,
  type LineItem,
  type Member,
  type MembershipContext,
  type Result,
} from "./schemas";

export {
  ACTIVITY_PROGRESS,
  GRADING_PROGRESS,
  CANVAS_SUBMISSION,
  type ActivityProgress,
  type GradingProgress,
  type LineItemQuery,
  type MembershipQuery,
  type NewLineItem,
  type NextPage,
  type ResultsQuery,
  type Score,
  type ScoreQuery,
} from "./inputs";

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

export const DEFAULT_TIMEOUT_MS = 20_000;
/** A paging loop that never ends is a broken server, not a big course. */
const MAX_PAGES = 1_000;

export function ltikHeader(apiKey: string, ltik: string): string {
  return `LTIK-AUTH-V2 ${apiKey}:${ltik}`;
}

export function serviceKeyHeader(apiKey: string, serviceKey: string): string {
  return `SERVICE-AUTH-V1 ${apiKey}:${serviceKey}`;
}

function query(params: Record<string, string | number | undefined>): string {
  const parts = Object.entries(params)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

function isNextPage(q: object | undefined): q is NextPage {
  return q !== undefined && "url" in q && typeof (q as NextPage).url === "string";
}

/** `?url=<next>` when following a page, else the first page's query (checked). */
function pageQuery(q: object | undefined, schema: z.ZodType<Record<string, string | number | undefined>>, operation: string): string {
  if (isNextPage(q)) return query({ url: checkInput(nonEmpty, q.url, operation) });
  return query(checkInput(schema, q ?? {}, operation));
}

function withNext<T extends object>(page: T, next: string | undefined): T & { next?: string } {
  return next ? { ...page, next } : page;
}

// ---------- the client ----------

export function createLtiaasClient(opts: LtiaasClientOptions): LtiaasClient {
  const base = new URL(opts.baseUrl.replace(/\/+$/, ""));
  const origin = base.origin;
  const basePath = base.pathname.replace(/\/+$/, "");
  const apiKey = opts.apiKey;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const transport = opts.transport ?? (opts.fetch ? fetchTransport(opts.fetch) : createUndiciTransport({ connections: opts.connections }));

  interface Request<T> {
    operation: string;
    method: "GET" | "POST";
    path: string;
    auth: LtiaasAuth;
    body?: unknown;
    scorePost?: boolean;
    /** Absent: the answer's body is ignored (a score post answers 204). */
    schema?: z.ZodType<T>;
    opts?: CallOptions;
  }

  async function call<T>(req: Request<T>): Promise<T> {
    const isLtik = "ltik" in req.auth;
    const secret = isLtik ? (req.auth as { ltik: string }).ltik : (req.auth as { serviceKey: string }).serviceKey;
    const secrets = [apiKey, secret];
    const fail = (init: Omit<LtiaasErrorInit, "operation">): never => {
      throw new LtiaasError({
        ...init,
        operation: req.operation,
        code: init.code === undefined ? undefined : redact(init.code, secrets),
        reason: init.reason === undefined ? undefined : redact(init.reason, secrets),
      });
    };
    if (typeof secret !== "string" || secret === "") {
      // No key stored for the context: only a launch brings one.
      fail({ kind: isLtik ? "refused" : "needs_relaunch", reason: isLtik ? "no ltik" : "no service key" });
    }

    const headers: Record<string, string> = {
      authorization: isLtik ? ltikHeader(apiKey, secret) : serviceKeyHeader(apiKey, secret),
      accept: "application/json",
    };
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    if (body !== undefined) headers["content-type"] = "application/json";

    await req.opts?.beforeSend?.();
    const report = (meta: AnswerMeta) => {
      try {
        req.opts?.onAnswer?.(meta);
      } catch {
        // The caller's bookkeeping failing must not change what the LMS answered.
      }
    };

    const t0 = performance.now();
    let answer;
    try {
      answer = await transport.send({ origin, path: `${basePath}${req.path}`, method: req.method, headers, body, timeoutMs });
    } catch (err) {
      report({ status: null, latencyMs: performance.now() - t0 });
      return fail({ kind: "retry_later", reason: transportReason(err, timeoutMs) });
    }
    const { status, text } = answer;
    const rateLimit = parseRateLimit(answer.header);
    report(rateLimit ? { status, latencyMs: performance.now() - t0, rateLimit } : { status, latencyMs: performance.now() - t0 });

    if (status < 200 || status > 299)
      return fail(classify({ auth: isLtik ? "ltik" : "serviceKey", scorePost: req.scorePost ?? false }, { status, text, retryAfter: answer.header("retry-after"), rateLimit }));
    if (!req.schema) return undefined as T;

    const more = rateLimit ? { rateLimit } : {};
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return fail({ kind: "bad_response", status, reason: "response is not JSON", ...more });
    }
    const parsed = req.schema.safeParse(json);
    if (!parsed.success) return fail({ kind: "bad_response", status, reason: `unexpected response: ${firstIssue(parsed.error)}`, ...more });
    return parsed.data;
  }

  const lineItemPath = (id: string, operation: string, kind: LtiaasErrorKind = "refused") =>
    `/api/lineitems/${encodeURIComponent(checkInput(nonEmpty, id, operation, kind))}`;

  async function followAll<P extends { next?: string }, I>(operation: string, page: (next?: string) => Promise<P>, items: (p: P) => I[]): Promise<I[]> {
    const out: I[] = [];
    const seen = new Set<string>();
    let current = await page();
    for (let pages = 1; ; pages++) {
      out.push(...items(current));
      const next = current.next;
      if (!next) return out;
      if (seen.has(next) || pages >= MAX_PAGES) throw new LtiaasError({ kind: "bad_response", operation, reason: "paging does not end" });
      seen.add(next);
      current = await page(next);
    }
  }

  async function resultsPage(operation: string, auth: LtiaasAuth, lineItemId: string, q: ResultsQuery | NextPage | undefined, opts?: CallOptions): Promise<ResultsPage> {
    const path = `${lineItemPath(lineItemId, operation)}/scores${pageQuery(q, resultsQueryInput, operation)}`;
    const page = await call({ operation, method: "GET", path, auth, schema: resultsPageSchema, opts });
    return withNext({ results: page.scores as Result[] }, page.next);
  }

  const client: LtiaasClient = {
    async getIdToken(ltik, opts) {
      return call({ operation: "getIdToken", method: "GET", path: "/api/idtoken", auth: { ltik }, schema: idTokenSchema as z.ZodType<IdToken>, opts });
    },

    async listLineItemsPage(auth, q, opts) {
      const operation = "listLineItems";
      const path = `/api/lineitems${pageQuery(q, lineItemQueryInput, operation)}`;
      const page = await call({ operation, method: "GET", path, auth, schema: lineItemsPageSchema, opts });
      return withNext({ lineItems: page.lineItems as LineItem[] }, page.next);
    },

    async listLineItems(auth, q, opts) {
      return followAll(
        "listLineItems",
        (url) => client.listLineItemsPage(auth, url ? { url } : (q ?? {}), opts),
        (p) => p.lineItems,
      );
    },

    async getLineItem(auth, id, opts) {
      const operation = "getLineItem";
      return call({ operation, method: "GET", path: lineItemPath(id, operation), auth, schema: lineItemSchema as z.ZodType<LineItem>, opts });
    },

    async createLineItem(auth, input, opts) {
      const operation = "createLineItem";
      const body = checkInput(newLineItemInput, input, operation);
      return call({ operation, method: "POST", path: "/api/lineitems", auth, body, schema: lineItemSchema as z.ZodType<LineItem>, opts });
    },

    async postScore(auth, lineItemId, score, opts) {
      const operation = "postScore";
      // An invalid score is one the LMS would refuse too: not gradable, so it is not retried.
      const body = checkInput(scoreInput, score, operation, "not_gradable");
      // No timestamp: LTIAAS stamps the score when it sends it.
      const path = `${lineItemPath(lineItemId, operation, "not_gradable")}/scores`;
      await call({ operation, method: "POST", path, auth, body, scorePost: true, opts });
    },

    async listResultsPage(auth, lineItemId, q, opts) {
      return resultsPage("listResults", auth, lineItemId, q, opts);
    },

    async listScores(auth, lineItemId, q, opts) {
      const operation = "listScores";
      return followAll(
        operation,
        (url) => resultsPage(operation, auth, lineItemId, url ? { url } : (q ?? {}), opts),
        (p) => p.results,
      );
    },

    async listMembershipsPage(auth, q, opts) {
      const operation = "listMemberships";
      const path = `/api/memberships${pageQuery(q, membershipQueryInput, operation)}`;
      const page = await call({ operation, method: "GET", path, auth, schema: membershipsPageSchema, opts });
      const out: MembershipsPage = { members: page.members as Member[] };
      if (page.context) out.context = page.context;
      return withNext(out, page.next);
    },
  };
  return client;
}

let cached: { key: string; client: LtiaasClient; transport: LtiaasTransport } | undefined;

/** The process-wide client for the configured LTIAAS account (rebuilt if the configuration changes). */
export function ltiaas(): LtiaasClient {
  const { ltiaasUrl, ltiaasApiKey } = env();
  const key = `${ltiaasUrl}\n${ltiaasApiKey}`;
  if (cached?.key !== key) {
    // Requests already in flight on the old pool finish; then its connections close.
    void cached?.transport.close?.().catch(() => undefined);
    const transport = createUndiciTransport();
    cached = { key, transport, client: createLtiaasClient({ baseUrl: ltiaasUrl, apiKey: ltiaasApiKey, transport }) };
  }
  return cached.client;
}
