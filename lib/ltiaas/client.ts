/**
 * The typed LTIAAS client: one function per endpoint the tool uses, every response checked by zod,
 * every failure turned into an LtiaasError whose kind is the sync engine's outcome (classify.ts
 * decides it), and every answer reported to the caller's `onAnswer` for pacing. Requests travel
 * through transport.ts. It never logs: the Authorization header carries the API key.
 */
import { z } from "zod";
import { env } from "../env";
import { classify, parseRateLimit, transportReason, unreachable } from "./classify";
import { LtiaasError, redact, type LtiaasErrorInit, type LtiaasErrorKind } from "./errors";
import {
  checkInput,
  firstIssue,
  lineItemQueryInput,
  membershipQueryInput,
  newLineItemInput,
  nonEmpty,
  resultsQueryInput,
  scoreInput,
  type NextPage,
  type ResultsQuery,
} from "./inputs";
import { createUndiciTransport, fetchTransport, type LtiaasTransport } from "./transport";
import type { AnswerMeta, CallOptions, LtiaasAuth, LtiaasClient, LtiaasClientOptions, MembershipsPage, ResultsPage } from "./types";
import {
  idTokenSchema,
  lineItemSchema,
  lineItemsPageSchema,
  membershipsPageSchema,
  resultsPageSchema,
  type IdToken,
  type LineItem,
  type Member,
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

export type { AnswerMeta, CallOptions, LtiaasAuth, LtiaasClient, LtiaasClientOptions, MembershipsPage, ResultsPage } from "./types";

export const DEFAULT_TIMEOUT_MS = 20_000;
/** What a header value may hold (the rule undici and fetch apply): no control characters, nothing past U+00FF. */
const HEADER_SAFE = /^[\t\x20-\x7e\x80-\xff]*$/;
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
    // A key that cannot be a header value (CR, LF, NUL…) would fail inside the transport as if the
    // network had: refuse it before anything is sent.
    if (!HEADER_SAFE.test(secret)) fail({ kind: isLtik ? "refused" : "needs_relaunch", reason: isLtik ? "ltik is not a valid header value" : "service key is not a valid header value" });

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
      return fail({ kind: "retry_later", reason: transportReason(err, timeoutMs), ...(unreachable(err) ? { unreachable: true } : {}) });
    }
    const { status, text } = answer;
    const rateLimit = parseRateLimit((name) => answer.header(name));
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
