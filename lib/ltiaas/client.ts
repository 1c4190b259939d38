/**
 * The typed LTIAAS client: one function per endpoint the tool uses, every response checked by zod,
 * every failure turned into an LtiaasError whose kind is the sync engine's outcome. It never logs:
 * the Authorization header carries the API key.
 */
import { z } from "zod";
import { env } from "../env";
import { LtiaasError, redact, type LtiaasErrorInit, type LtiaasErrorKind } from "./errors";
import {
  idTokenSchema,
  lineItemSchema,
  lineItemsPageSchema,
  ltiaasErrorBodySchema,
  membershipsPageSchema,
  resultsPageSchema,
  type IdToken,
  type LineItem,
  type Member,
  type MembershipContext,
  type Result,
} from "./schemas";

export type LtiaasAuth = { ltik: string } | { serviceKey: string };

export interface LtiaasClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Per request, body included. Default 20 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** AGS score vocabulary (the ledger validates incoming scores against the same lists). */
export const ACTIVITY_PROGRESS = ["Initialized", "Started", "InProgress", "Submitted", "Completed"] as const;
export const GRADING_PROGRESS = ["FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"] as const;
export type ActivityProgress = (typeof ACTIVITY_PROGRESS)[number];
export type GradingProgress = (typeof GRADING_PROGRESS)[number];

export interface LineItemQuery {
  resourceLinkId?: string;
  resourceId?: string;
  tag?: string;
  limit?: number;
}

/** A line item to create: everything but the id the LMS gives it. */
export type NewLineItem = Omit<LineItem, "id">;

export interface Score {
  userId: string;
  activityProgress: ActivityProgress;
  gradingProgress: GradingProgress;
  scoreGiven?: number;
  scoreMaximum?: number;
  comment?: string;
}

export interface ScoreQuery {
  userId?: string;
  limit?: number;
}

export interface MembershipQuery {
  role?: string;
  limit?: number;
  resourceLinkId?: string;
}

/** The `next` URL of a previous page; every other parameter is then ignored. */
export interface NextPage {
  url: string;
}

export interface MembershipsPage {
  context?: MembershipContext;
  members: Member[];
  next?: string;
}

export interface LtiaasClient {
  getIdToken(ltik: string): Promise<IdToken>;
  listLineItems(auth: LtiaasAuth, q?: LineItemQuery): Promise<LineItem[]>;
  listLineItemsPage(auth: LtiaasAuth, q?: LineItemQuery | NextPage): Promise<{ lineItems: LineItem[]; next?: string }>;
  getLineItem(auth: LtiaasAuth, id: string): Promise<LineItem>;
  /**
   * `beforeSend` runs right before the request leaves — after any queueing a wrapping client adds
   * (a platform's slots, a Retry-After) — and cancels it by throwing.
   */
  createLineItem(auth: LtiaasAuth, input: NewLineItem, opts?: { beforeSend?: () => Promise<void> }): Promise<LineItem>;
  postScore(auth: LtiaasAuth, lineItemId: string, score: Score): Promise<void>;
  listScores(auth: LtiaasAuth, lineItemId: string, q?: ScoreQuery): Promise<Result[]>;
  listMembershipsPage(auth: LtiaasAuth, q?: MembershipQuery | NextPage): Promise<MembershipsPage>;
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

// ---------- input checks (a bad input is our bug, but it still fails as an LtiaasError) ----------

const nonEmpty = z.string().min(1);
const limit = z.number().int().positive().optional();

const scoreInput = z
  .object({
    userId: nonEmpty,
    activityProgress: z.enum(ACTIVITY_PROGRESS),
    gradingProgress: z.enum(GRADING_PROGRESS),
    scoreGiven: z.number().finite().min(0).optional(),
    scoreMaximum: z.number().finite().positive().optional(),
    comment: z.string().optional(),
  })
  .refine((s) => s.scoreGiven === undefined || s.scoreMaximum !== undefined, {
    message: "scoreMaximum is required with scoreGiven",
    path: ["scoreMaximum"],
  });

const newLineItemInput = z.object({
  label: nonEmpty,
  scoreMaximum: z.number().finite().positive(),
  resourceLinkId: nonEmpty.optional(),
  resourceId: nonEmpty.optional(),
  tag: nonEmpty.optional(),
  startDateTime: nonEmpty.optional(),
  endDateTime: nonEmpty.optional(),
  gradesReleased: z.boolean().optional(),
});

const lineItemQueryInput = z.object({ resourceLinkId: nonEmpty.optional(), resourceId: nonEmpty.optional(), tag: nonEmpty.optional(), limit });
const scoreQueryInput = z.object({ userId: nonEmpty.optional(), limit });
const membershipQueryInput = z.object({ role: nonEmpty.optional(), limit, resourceLinkId: nonEmpty.optional() });

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid";
  // Paths name fields, never values, so this is safe to show.
  return issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message;
}

function checkInput<T>(schema: z.ZodType<T>, value: unknown, operation: string, kind: LtiaasErrorKind = "refused"): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new LtiaasError({ kind, operation, reason: `invalid request: ${firstIssue(parsed.error)}` });
  return parsed.data;
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

// ---------- the outcome of an HTTP answer ----------

/** `Retry-After` as seconds: an integer, or an HTTP-date turned into seconds from now. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  // Date.parse would read "-5" as a year.
  if (/^[-+]?\d+(\.\d+)?$/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

const CODE_LIKE = /^[A-Z][A-Z0-9_]*$/;

interface ErrorBody {
  fromLms: boolean;
  code?: string;
  reason?: string;
}

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

function readErrorBody(text: string): ErrorBody {
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

const ORDERING = /timestamp/i;
const ORDERING_WORDS = /\b(before|earlier|older)\b/i;
const RATE_LIMIT = /rate limit exceeded/i;
const ACCOUNT_CODES = new Set(["UNREGISTERED_OR_INACTIVE_PLATFORM", "INACTIVE_SERVICE", "SERVICE_NOT_AVAILABLE_FOR_CONTEXT"]);

interface Call {
  operation: string;
  auth: "ltik" | "serviceKey";
  scorePost: boolean;
}

interface Answer {
  status: number;
  retryAfter: string | null;
  /** Canvas's `X-Rate-Limit-Remaining`, a float; 0 with a 403 means throttled. */
  rateLimitRemaining: string | null;
  text: string;
}

function throttled({ status, rateLimitRemaining, text }: Answer): boolean {
  if (status === 429) return true;
  if (status !== 403) return false;
  if (RATE_LIMIT.test(text)) return true;
  const remaining = rateLimitRemaining?.trim() ? Number(rateLimitRemaining) : NaN;
  return Number.isFinite(remaining) && remaining <= 0;
}

function classify(call: Call, answer: Answer): Omit<LtiaasErrorInit, "operation"> {
  const { status, text } = answer;
  const body = readErrorBody(text);
  const retryAfterSeconds = parseRetryAfter(answer.retryAfter);
  const base = { status, code: body.code, reason: body.reason, fromLms: body.fromLms };
  const mentionsOrdering = ORDERING.test(text) && ORDERING_WORDS.test(text);

  if (throttled(answer) || status >= 500 || status === 408)
    return { ...base, kind: "retry_later", retryAfterSeconds };
  // Two updates in one second, or out of order: wait at least a second and send the newest again.
  if (status === 409 || (call.scorePost && (status === 400 || status === 422) && mentionsOrdering))
    return { ...base, kind: "conflict", retryAfterSeconds: Math.max(1, retryAfterSeconds ?? 1) };
  if (status === 404) return { ...base, kind: "not_found" };
  if (status === 401) return { ...base, kind: call.auth === "serviceKey" ? "needs_relaunch" : "refused" };
  // LTIAAS's own refusals of the platform or service say nothing about this score: skipping it as
  // not gradable would lose it for good once the account is fixed.
  if (call.scorePost && (status === 400 || status === 422) && !(body.code && ACCOUNT_CODES.has(body.code)))
    return { ...base, kind: "not_gradable" };
  if (status >= 400 && status < 500) return { ...base, kind: "refused" };
  // 1xx/3xx: redirects are not followed (they could carry the Authorization header elsewhere).
  return { ...base, kind: "bad_response", reason: body.reason ?? `unexpected HTTP ${status}` };
}

function transportReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; cause?: { code?: unknown } } | undefined;
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return `timed out after ${timeoutMs} ms`;
  const code = typeof e?.cause?.code === "string" ? e.cause.code : undefined;
  // Only the error code: a transport error's message may quote the request.
  return code ? `connection failed (${code})` : "connection failed";
}

// ---------- the client ----------

export function createLtiaasClient(opts: LtiaasClientOptions): LtiaasClient {
  const baseUrl = opts.baseUrl.replace(/\/+$/, "");
  const apiKey = opts.apiKey;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = opts.fetch ?? globalThis.fetch;

  interface Request<T> {
    operation: string;
    method: "GET" | "POST";
    path: string;
    auth: LtiaasAuth;
    body?: unknown;
    scorePost?: boolean;
    /** Absent: the answer's body is ignored (a score post answers 204). */
    schema?: z.ZodType<T>;
  }

  async function call<T>(req: Request<T>): Promise<T> {
    const isLtik = "ltik" in req.auth;
    const secret = isLtik ? (req.auth as { ltik: string }).ltik : (req.auth as { serviceKey: string }).serviceKey;
    const callInfo: Call = { operation: req.operation, auth: isLtik ? "ltik" : "serviceKey", scorePost: req.scorePost ?? false };
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
      Authorization: isLtik ? ltikHeader(apiKey, secret) : serviceKeyHeader(apiKey, secret),
      Accept: "application/json",
    };
    if (req.body !== undefined) headers["Content-Type"] = "application/json";

    let answer: Answer;
    try {
      const res = await doFetch(`${baseUrl}${req.path}`, {
        method: req.method,
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
      // Always read the body to its end, so the connection goes back to the pool.
      const text = await res.text();
      answer = {
        status: res.status,
        retryAfter: res.headers.get("retry-after"),
        rateLimitRemaining: res.headers.get("x-rate-limit-remaining"),
        text,
      };
    } catch (err) {
      return fail({ kind: "retry_later", reason: transportReason(err, timeoutMs) });
    }

    const { status, text } = answer;
    if (status < 200 || status > 299) return fail(classify(callInfo, answer));
    if (!req.schema) return undefined as T;

    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return fail({ kind: "bad_response", status, reason: "response is not JSON" });
    }
    const parsed = req.schema.safeParse(json);
    if (!parsed.success) return fail({ kind: "bad_response", status, reason: `unexpected response: ${firstIssue(parsed.error)}` });
    return parsed.data;
  }

  const lineItemPath = (id: string, operation: string, kind: LtiaasErrorKind = "refused") =>
    `/api/lineitems/${encodeURIComponent(checkInput(nonEmpty, id, operation, kind))}`;

  async function followAll<P extends { next?: string }, I>(
    operation: string,
    first: () => Promise<P>,
    page: (next: string) => Promise<P>,
    items: (p: P) => I[],
  ): Promise<I[]> {
    const out: I[] = [];
    const seen = new Set<string>();
    let current = await first();
    for (let pages = 1; ; pages++) {
      out.push(...items(current));
      const next = current.next;
      if (!next) return out;
      if (seen.has(next) || pages >= MAX_PAGES)
        throw new LtiaasError({ kind: "bad_response", operation, reason: "paging does not end" });
      seen.add(next);
      current = await page(next);
    }
  }

  const client: LtiaasClient = {
    async getIdToken(ltik) {
      return call({ operation: "getIdToken", method: "GET", path: "/api/idtoken", auth: { ltik }, schema: idTokenSchema as z.ZodType<IdToken> });
    },

    async listLineItemsPage(auth, q) {
      const operation = "listLineItems";
      const path = isNextPage(q)
        ? `/api/lineitems${query({ url: checkInput(nonEmpty, q.url, operation) })}`
        : `/api/lineitems${query(checkInput(lineItemQueryInput, q ?? {}, operation))}`;
      const page = await call({ operation, method: "GET", path, auth, schema: lineItemsPageSchema });
      return withNext({ lineItems: page.lineItems as LineItem[] }, page.next);
    },

    async listLineItems(auth, q) {
      return followAll(
        "listLineItems",
        () => client.listLineItemsPage(auth, q ?? {}),
        (url) => client.listLineItemsPage(auth, { url }),
        (p) => p.lineItems,
      );
    },

    async getLineItem(auth, id) {
      const operation = "getLineItem";
      return call({ operation, method: "GET", path: lineItemPath(id, operation), auth, schema: lineItemSchema as z.ZodType<LineItem> });
    },

    async createLineItem(auth, input, opts) {
      const operation = "createLineItem";
      const body = checkInput(newLineItemInput, input, operation);
      await opts?.beforeSend?.();
      return call({ operation, method: "POST", path: "/api/lineitems", auth, body, schema: lineItemSchema as z.ZodType<LineItem> });
    },

    async postScore(auth, lineItemId, score) {
      const operation = "postScore";
      // An invalid score is one the LMS would refuse too: not gradable, so it is not retried.
      const body = checkInput(scoreInput, score, operation, "not_gradable");
      // No timestamp: LTIAAS stamps the score when it sends it.
      await call({ operation, method: "POST", path: `${lineItemPath(lineItemId, operation, "not_gradable")}/scores`, auth, body, scorePost: true });
    },

    async listScores(auth, lineItemId, q) {
      const operation = "listScores";
      const base = `${lineItemPath(lineItemId, operation)}/scores`;
      const first = query(checkInput(scoreQueryInput, q ?? {}, operation));
      const get = (path: string) => call({ operation, method: "GET", path, auth, schema: resultsPageSchema });
      return followAll(
        operation,
        () => get(`${base}${first}`),
        (url) => get(`${base}${query({ url })}`),
        (p) => p.scores as Result[],
      );
    },

    async listMembershipsPage(auth, q) {
      const operation = "listMemberships";
      const path = isNextPage(q)
        ? `/api/memberships${query({ url: checkInput(nonEmpty, q.url, operation) })}`
        : `/api/memberships${query(checkInput(membershipQueryInput, q ?? {}, operation))}`;
      const page = await call({ operation, method: "GET", path, auth, schema: membershipsPageSchema });
      const out: MembershipsPage = { members: page.members as Member[] };
      if (page.context) out.context = page.context;
      return withNext(out, page.next);
    },
  };
  return client;
}

function withNext<T extends object>(page: T, next: string | undefined): T & { next?: string } {
  return next ? { ...page, next } : page;
}

let cached: { key: string; client: LtiaasClient } | undefined;

/** The process-wide client for the configured LTIAAS account (rebuilt if the configuration changes). */
export function ltiaas(): LtiaasClient {
  const { ltiaasUrl, ltiaasApiKey } = env();
  const key = `${ltiaasUrl}\n${ltiaasApiKey}`;
  if (cached?.key !== key) cached = { key, client: createLtiaasClient({ baseUrl: ltiaasUrl, apiKey: ltiaasApiKey }) };
  return cached.client;
}
