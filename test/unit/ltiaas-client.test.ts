import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { setEnvForTests } from "@/lib/env";
import {
  createLtiaasClient,
  isRetryable,
  LtiaasError,
  ltiaas,
  ltikHeader,
  parseRetryAfter,
  serviceKeyHeader,
  type LtiaasAuth,
  type AnswerMeta,
  type LtiaasClient,
  type Score,
} from "@/lib/ltiaas";
import { testEnv } from "../support/env";

const API_KEY = "api-key-SECRET-0123456789";
const LTIK = "ltik-SECRET-abcdefghijklmnop";
const SERVICE_KEY = "svc-SECRET-qrstuvwxyz012345";
const BASE = "https://acct.ltiaas.example/";
const LTIK_AUTH: LtiaasAuth = { ltik: LTIK };
const SVC_AUTH: LtiaasAuth = { serviceKey: SERVICE_KEY };
const LINE_ITEM = "https://lms.example.com/api/lti/courses/1/line_items/7?x=a b&y=ü";

interface Sent {
  url: string;
  method: string;
  headers: Headers;
  body?: string;
}

type Reply = Response | ((req: Sent, signal: AbortSignal) => Response | Promise<Response>);

/** A fetch that answers from a queue and records what it was asked and what it gave back. */
function stubFetch(...replies: Reply[]) {
  const sent: Sent[] = [];
  const responses: Response[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const req: Sent = {
      url: String(input),
      method: init?.method ?? "GET",
      headers: new Headers(init?.headers),
      body: typeof init?.body === "string" ? init.body : undefined,
    };
    sent.push(req);
    const next = replies.shift();
    if (!next) throw new Error("stub: no reply queued");
    const res = typeof next === "function" ? await next(req, init!.signal!) : next;
    responses.push(res);
    return res;
  }) as typeof fetch;
  return { fetchFn, sent, responses };
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

function text(body: string, status: number, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers });
}

const noContent = () => new Response(null, { status: 204 });

function ltiaasError(status: number, message: string, description?: string): Response {
  return json({ status, error: "Error", details: { message, ...(description ? { description } : {}) } }, status);
}

function client(...replies: Reply[]) {
  const stub = stubFetch(...replies);
  return { c: createLtiaasClient({ baseUrl: BASE, apiKey: API_KEY, fetch: stub.fetchFn }), ...stub };
}

async function failure(p: Promise<unknown>): Promise<LtiaasError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(LtiaasError);
    return err as LtiaasError;
  }
  throw new Error("expected the call to fail");
}

const score = { userId: "u1", activityProgress: "Completed", gradingProgress: "FullyGraded", scoreGiven: 8, scoreMaximum: 10 } as const;

const idToken = {
  ltiVersion: "1.3.0",
  user: {
    id: "2",
    roles: ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
    name: "Ada Lovelace",
    email: "ada@example.com",
    givenName: "Ada",
    familyName: "Lovelace",
    somethingNew: { nested: true },
  },
  platform: { id: "0c41", url: "https://lms.example.com", clientId: "cid", deploymentId: "1", name: "LMS", productFamilyCode: "canvas" },
  launch: {
    type: "LtiResourceLinkRequest",
    context: { id: "2", label: "BIO101", title: "Biology", type: ["CourseSection"] },
    resourceLink: { id: "1", title: "Lab 3", description: "…" },
    presentation: { locale: "en", documentTarget: "iframe", returnUrl: "https://lms.example.com/return" },
    custom: { a: "b" },
  },
  services: {
    assignmentAndGrades: { available: true, lineItemId: LINE_ITEM },
    namesAndRoles: { available: true },
    deepLinking: { available: false },
    serviceKey: "eyJ.service.key",
  },
  extraTopLevel: 1,
};

describe("auth headers", () => {
  it("builds both schemes", () => {
    expect(ltikHeader("k", "l")).toBe("LTIK-AUTH-V2 k:l");
    expect(serviceKeyHeader("k", "s")).toBe("SERVICE-AUTH-V1 k:s");
  });

  it("sends the ltik scheme for the id token, to the base URL without a double slash", async () => {
    const { c, sent } = client(json(idToken));
    await c.getIdToken(LTIK);
    expect(sent[0].url).toBe("https://acct.ltiaas.example/api/idtoken");
    expect(sent[0].method).toBe("GET");
    expect(sent[0].headers.get("authorization")).toBe(`LTIK-AUTH-V2 ${API_KEY}:${LTIK}`);
    expect(sent[0].headers.get("accept")).toBe("application/json");
    expect(sent[0].headers.get("content-type")).toBeNull();
  });

  it("sends the service-key scheme and a JSON body on posts", async () => {
    const { c, sent } = client(noContent());
    await c.postScore(SVC_AUTH, LINE_ITEM, score);
    expect(sent[0].headers.get("authorization")).toBe(`SERVICE-AUTH-V1 ${API_KEY}:${SERVICE_KEY}`);
    expect(sent[0].headers.get("content-type")).toBe("application/json");
    expect(sent[0].method).toBe("POST");
  });

  it("keeps a base path (the bundled emulator lives under /emulator)", async () => {
    const stub = stubFetch(json({ lineItems: [] }));
    const c = createLtiaasClient({ baseUrl: "http://127.0.0.1:3000/emulator//", apiKey: API_KEY, fetch: stub.fetchFn });
    await c.listLineItemsPage(SVC_AUTH);
    expect(stub.sent[0].url).toBe("http://127.0.0.1:3000/emulator/api/lineitems");
  });

  it("refuses to call without a key, before any request", async () => {
    const { c, sent } = client();
    expect((await failure(c.postScore({ serviceKey: "" }, LINE_ITEM, score))).kind).toBe("needs_relaunch");
    expect((await failure(c.getIdToken(""))).kind).toBe("refused");
    expect(sent).toHaveLength(0);
  });
});

describe("keys that cannot be sent", () => {
  it.each([
    ["a line break", "abc\r\nX-Evil: 1"],
    ["a NUL", "abc\u0000def"],
    ["a character past U+00FF", "abc€"],
  ])("refuses a key with %s before any request, quoting nothing", async (_name, key) => {
    const { c, sent } = client();
    const seen: AnswerMeta[] = [];
    const svc = await failure(c.postScore({ serviceKey: key }, LINE_ITEM, score, { onAnswer: (a) => seen.push(a) }));
    expect(svc).toMatchObject({ kind: "needs_relaunch", reason: "service key is not a valid header value" });
    const ltik = await failure(c.getIdToken(key));
    expect(ltik).toMatchObject({ kind: "refused", reason: "ltik is not a valid header value" });
    expect(sent).toHaveLength(0);
    expect(seen).toEqual([]);
  });
});

describe("id token parsing", () => {
  it("parses the reference token and keeps extra fields", async () => {
    const { c } = client(json(idToken));
    const t = await c.getIdToken(LTIK);
    expect(t.user).toMatchObject({ id: "2", name: "Ada Lovelace", email: "ada@example.com", givenName: "Ada", familyName: "Lovelace" });
    expect(t.platform).toMatchObject({ id: "0c41", url: "https://lms.example.com", clientId: "cid", deploymentId: "1", productFamilyCode: "canvas" });
    expect(t.launch.context).toMatchObject({ id: "2", label: "BIO101", title: "Biology", type: ["CourseSection"] });
    expect(t.launch.resourceLink).toMatchObject({ id: "1", title: "Lab 3" });
    expect(t.launch.presentation?.documentTarget).toBe("iframe");
    expect(t.launch.custom).toEqual({ a: "b" });
    expect(t.services.assignmentAndGrades).toMatchObject({ available: true, lineItemId: LINE_ITEM });
    expect(t.services.namesAndRoles?.available).toBe(true);
    expect(t.services.serviceKey).toBe("eyJ.service.key");
    expect((t.user as Record<string, unknown>).somethingNew).toEqual({ nested: true });
    expect((t as unknown as Record<string, unknown>).extraTopLevel).toBe(1);
  });

  it("normalises document_target and return_url", async () => {
    const token = structuredClone(idToken) as { launch: Record<string, unknown> };
    token.launch.presentation = { document_target: "window", return_url: "https://r" };
    const { c } = client(json(token));
    const t = await c.getIdToken(LTIK);
    expect(t.launch.presentation).toMatchObject({ documentTarget: "window", returnUrl: "https://r" });
    expect(t.launch.presentation).not.toHaveProperty("document_target");
  });

  it("accepts a token with only the guaranteed fields, nulls and numeric ids", async () => {
    const { c } = client(
      json({
        user: { id: 42, roles: ["Learner", null], name: null },
        platform: { id: "p" },
        launch: { type: "LtiResourceLinkRequest", context: { id: 9 }, resourceLink: null },
        services: { assignmentAndGrades: { available: true, lineItemId: null } },
      }),
    );
    const t = await c.getIdToken(LTIK);
    expect(t.user).toMatchObject({ id: "42", roles: ["Learner"] });
    expect(t.user.name).toBeUndefined();
    expect(t.user.email).toBeUndefined();
    expect(t.launch.context?.id).toBe("9");
    expect(t.launch.resourceLink).toBeUndefined();
    expect(t.services.assignmentAndGrades).toMatchObject({ available: true });
    expect(t.services.assignmentAndGrades?.lineItemId).toBeUndefined();
    expect(t.services.serviceKey).toBeUndefined();
  });

  it("treats a token without user id or platform as a bad response", async () => {
    const { c } = client(json({ user: { roles: [] }, launch: { type: "x" } }));
    const err = await failure(c.getIdToken(LTIK));
    expect(err.kind).toBe("bad_response");
    expect(err.status).toBe(200);
  });

  it("treats a 2xx that is not JSON as a bad response", async () => {
    const { c } = client(text("<html>gateway login</html>", 200));
    const err = await failure(c.getIdToken(LTIK));
    expect(err).toMatchObject({ kind: "bad_response", status: 200, reason: "response is not JSON" });
  });
});

describe("the outcome table", () => {
  type Case = [name: string, reply: () => Response, auth: LtiaasAuth, op: "score" | "list" | "idtoken", expected: Partial<LtiaasError>];
  const cases: Case[] = [
    ["429 with Retry-After", () => text("Too Many Requests", 429, { "retry-after": "30" }), SVC_AUTH, "score", { kind: "retry_later", status: 429, retryAfterSeconds: 30, fromLms: true }],
    ["429 without Retry-After", () => text("", 429), SVC_AUTH, "list", { kind: "retry_later", status: 429, retryAfterSeconds: undefined }],
    ["Canvas 403 Rate Limit Exceeded", () => text("403 Forbidden (Rate Limit Exceeded)", 403), SVC_AUTH, "score", { kind: "retry_later", status: 403, fromLms: true }],
    ["Canvas 403 rate limit inside JSON", () => json({ errors: [{ message: "Rate Limit Exceeded" }] }, 403), SVC_AUTH, "list", { kind: "retry_later", reason: "Rate Limit Exceeded" }],
    ["Canvas 403 with X-Rate-Limit-Remaining 0", () => text("Forbidden", 403, { "x-rate-limit-remaining": "0.0" }), SVC_AUTH, "score", { kind: "retry_later" }],
    ["403 with rate limit budget left is not a throttle", () => text("Forbidden", 403, { "x-rate-limit-remaining": "350.5" }), SVC_AUTH, "score", { kind: "refused" }],
    ["403 for anything else", () => json({ errors: [{ message: "unauthorized" }] }, 403), SVC_AUTH, "score", { kind: "refused", status: 403, reason: "unauthorized" }],
    ["500", () => text("oops", 500), SVC_AUTH, "score", { kind: "retry_later", status: 500 }],
    ["502", () => text("<html><body><h1>502 Bad Gateway</h1></body></html>", 502), LTIK_AUTH, "idtoken", { kind: "retry_later", reason: "502 Bad Gateway" }],
    ["503 with Retry-After", () => text("", 503, { "retry-after": "5" }), SVC_AUTH, "list", { kind: "retry_later", retryAfterSeconds: 5 }],
    ["422 not a student", () => json({ errors: { type: "unprocessable_entity", message: "User not found in course or is not a student" } }, 422), SVC_AUTH, "score", { kind: "not_gradable", status: 422, reason: "User not found in course or is not a student", fromLms: true }],
    ["422 max attempts", () => json({ errors: { type: "unprocessable_entity", message: "The maximum number of allowed attempts has been reached for this submission" } }, 422), SVC_AUTH, "score", { kind: "not_gradable", reason: "The maximum number of allowed attempts has been reached for this submission" }],
    ["422 JSON without a message keeps the body", () => json({ code: 17 }, 422), SVC_AUTH, "score", { kind: "not_gradable", reason: '{"code":17}' }],
    ["400 incorrect score", () => json({ message: "Incorrect score received" }, 400), SVC_AUTH, "score", { kind: "not_gradable", status: 400, reason: "Incorrect score received" }],
    ["400 earlier timestamp (Canvas)", () => json({ errors: [{ message: "Provided timestamp of 2026-01-01T00:00:00Z before last updated timestamp of 2026-01-01T00:00:01Z" }] }, 400), SVC_AUTH, "score", { kind: "conflict", status: 400, retryAfterSeconds: 1 }],
    ["409 earlier timestamp (Moodle)", () => json({ message: "Refusing score with an earlier timestamp" }, 409), SVC_AUTH, "score", { kind: "conflict", status: 409, retryAfterSeconds: 1 }],
    ["409 with a longer Retry-After", () => text("conflict", 409, { "retry-after": "3" }), SVC_AUTH, "score", { kind: "conflict", retryAfterSeconds: 3 }],
    ["401 on a service key", () => ltiaasError(401, "INVALID_SERVICE_KEY_AUTH", "Invalid service key."), SVC_AUTH, "score", { kind: "needs_relaunch", status: 401, code: "INVALID_SERVICE_KEY_AUTH", reason: "Invalid service key.", fromLms: false }],
    ["401 on a service key, LMS body", () => text("Unauthorized", 401), SVC_AUTH, "list", { kind: "needs_relaunch", fromLms: true }],
    ["401 on an ltik", () => ltiaasError(401, "INVALID_LTIK_AUTH_AUTHORIZATION_HEADER", "Invalid or expired ltik."), LTIK_AUTH, "idtoken", { kind: "refused", status: 401, code: "INVALID_LTIK_AUTH_AUTHORIZATION_HEADER", fromLms: false }],
    ["401 on an ltik score post", () => text("", 401), LTIK_AUTH, "score", { kind: "refused", status: 401 }],
    ["400 inactive platform on the id token", () => ltiaasError(400, "UNREGISTERED_OR_INACTIVE_PLATFORM"), LTIK_AUTH, "idtoken", { kind: "refused", status: 400, code: "UNREGISTERED_OR_INACTIVE_PLATFORM", reason: "Error", fromLms: false }],
    ["400 LTIAAS service refusal on a score post is not 'not gradable'", () => ltiaasError(400, "SERVICE_NOT_AVAILABLE_FOR_CONTEXT", "Assignment and Grades is not available."), SVC_AUTH, "score", { kind: "refused", code: "SERVICE_NOT_AVAILABLE_FOR_CONTEXT", fromLms: false }],
    // LTIAAS refusing a field it was sent says nothing about the learner: refused (retried, bounded), never skipped for good.
    ["400 LTIAAS validation on a score post is refused, not 'not gradable'", () => ltiaasError(400, "INVALID_PARAMETERS", "scoreGiven: must be 0 or more"), SVC_AUTH, "score", { kind: "refused", code: "INVALID_PARAMETERS", reason: "scoreGiven: must be 0 or more", fromLms: false }],
    ["400 on a list is refused, not 'not gradable'", () => text("bad", 400), SVC_AUTH, "list", { kind: "refused", status: 400 }],
    ["400 LTIAAS-shaped on a score post, as LTIAAS refuses a field", () => ltiaasError(400, "submission.submittedAt: must be an ISO 8601 date"), SVC_AUTH, "score", { kind: "refused", status: 400, fromLms: false }],
    ["400 earlier timestamp relayed in LTIAAS's shape stays a conflict", () => ltiaasError(400, "Provided timestamp of 2026-01-01T00:00:00Z before last updated timestamp of 2026-01-01T00:00:01Z"), SVC_AUTH, "score", { kind: "conflict", status: 400, fromLms: false }],
    ["Canvas 403 throttle without Retry-After carries its rate headers", () => text("403 Forbidden (Rate Limit Exceeded)", 403, { "x-rate-limit-remaining": "0.0", "x-request-cost": "50" }), SVC_AUTH, "score", { kind: "retry_later", status: 403, retryAfterSeconds: undefined, rateLimit: { remaining: 0, cost: 50 } }],
    ["404 line item", () => text("Not Found", 404), SVC_AUTH, "score", { kind: "not_found", status: 404 }],
    ["404 on a list", () => json({ errors: [{ message: "The specified resource does not exist." }] }, 404), SVC_AUTH, "list", { kind: "not_found" }],
    ["408", () => text("", 408), SVC_AUTH, "list", { kind: "retry_later", status: 408 }],
    ["a redirect is not followed", () => text("", 302, { location: "https://elsewhere.example/" }), SVC_AUTH, "list", { kind: "bad_response", status: 302 }],
    ["LTIAAS message that is prose, not a code", () => ltiaasError(422, "User not found in course or is not a student"), SVC_AUTH, "score", { kind: "not_gradable", code: undefined, reason: "User not found in course or is not a student", fromLms: false }],
  ];

  it.each(cases)("%s", async (_name, reply, auth, op, expected) => {
    const { c, responses } = client(reply());
    const p = op === "score" ? c.postScore(auth, LINE_ITEM, score) : op === "list" ? c.listLineItemsPage(auth) : c.getIdToken("ltik" in auth ? auth.ltik : "x");
    const err = await failure(p);
    expect(err).toMatchObject(expected);
    for (const [k, v] of Object.entries(expected)) if (v === undefined) expect(err[k as keyof LtiaasError], k).toBeUndefined();
    // The error body was read to its end, so the socket can be reused.
    expect(responses[0].bodyUsed || responses[0].body === null).toBe(true);
  });

  it("succeeds on 204 and on 200 for a score post", async () => {
    const { c, responses } = client(noContent(), json({ ok: true }));
    await expect(c.postScore(SVC_AUTH, LINE_ITEM, score)).resolves.toBeUndefined();
    await expect(c.postScore(SVC_AUTH, LINE_ITEM, score)).resolves.toBeUndefined();
    expect(responses[1].bodyUsed).toBe(true);
  });

  it("truncates a long reason", async () => {
    const { c } = client(text("x".repeat(5000), 422));
    const err = await failure(c.postScore(SVC_AUTH, LINE_ITEM, score));
    expect(err.reason!.length).toBeLessThanOrEqual(200);
    expect(err.message.length).toBeLessThan(300);
  });

  it("marks what to retry", async () => {
    const kinds = ["retry_later", "conflict", "not_gradable", "needs_relaunch", "not_found", "refused", "bad_response"] as const;
    const retryable = kinds.filter((kind) => isRetryable(new LtiaasError({ kind, operation: "x" })));
    expect(retryable).toEqual(["retry_later", "conflict"]);
    expect(isRetryable(new Error("retry_later"))).toBe(false);
  });
});

describe("Retry-After", () => {
  const now = Date.parse("2026-11-27T10:00:00Z");
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("Fri, 27 Nov 2026 10:01:30 GMT", now)).toBe(90);
    expect(parseRetryAfter("Fri, 27 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-5", now)).toBeUndefined();
    expect(parseRetryAfter("1.5", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it("turns an HTTP-date header into seconds on the error", async () => {
    const at = new Date(Date.now() + 3_600_000).toUTCString();
    const { c } = client(text("", 429, { "retry-after": at }));
    const err = await failure(c.postScore(SVC_AUTH, LINE_ITEM, score));
    expect(err.retryAfterSeconds).toBeGreaterThan(3_500);
    expect(err.retryAfterSeconds).toBeLessThanOrEqual(3_600);
  });
});

describe("transport failures", () => {
  it("gives up after the timeout and says retry later", async () => {
    const hang: Reply = (_req, signal) =>
      new Promise<Response>((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    const stub = stubFetch(hang);
    const c = createLtiaasClient({ baseUrl: BASE, apiKey: API_KEY, fetch: stub.fetchFn, timeoutMs: 20 });
    const err = await failure(c.postScore(SVC_AUTH, LINE_ITEM, score));
    expect(err).toMatchObject({ kind: "retry_later", status: undefined, reason: "timed out after 20 ms" });
  });

  it("times out a real server that never answers", async () => {
    const server = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const { port } = server.address() as AddressInfo;
      const c = createLtiaasClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: API_KEY, timeoutMs: 50 });
      const err = await failure(c.listLineItemsPage(SVC_AUTH));
      expect(err.kind).toBe("retry_later");
      expect(err.reason).toMatch(/timed out/);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it("maps a refused connection to retry later", async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    await new Promise((r) => server.close(r));
    const c = createLtiaasClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: API_KEY });
    const err = await failure(c.postScore(SVC_AUTH, LINE_ITEM, score));
    expect(err).toMatchObject({ kind: "retry_later", reason: "connection failed (ECONNREFUSED)" });
  });

  it("maps a reset connection to retry later", async () => {
    const { c } = client(() => {
      throw new TypeError("fetch failed", { cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) });
    });
    const err = await failure(c.listScores(SVC_AUTH, LINE_ITEM));
    expect(err).toMatchObject({ kind: "retry_later", reason: "connection failed (ECONNRESET)" });
  });
});

describe("line items and paging", () => {
  const item = (n: number) => ({ id: `https://lms.example.com/line_items/${n}`, label: `L${n}`, scoreMaximum: 10, unknownField: "kept" });

  it("builds the query and follows every next through ?url=", async () => {
    const next1 = "https://lms.example.com/api/lti/courses/1/line_items?page=2&per_page=1";
    const next2 = "https://lms.example.com/api/lti/courses/1/line_items?page=3&per_page=1";
    const { c, sent } = client(
      json({ lineItems: [item(1)], next: next1 }),
      json({ lineItems: [item(2)], next: next2 }),
      json({ lineItems: [item(3)], next: null }),
    );
    const items = await c.listLineItems(SVC_AUTH, { resourceLinkId: "rl 1", tag: "a&b", limit: 1 });
    expect(items.map((i) => i.label)).toEqual(["L1", "L2", "L3"]);
    expect(sent.map((s) => s.url)).toEqual([
      `${BASE}api/lineitems?resourceLinkId=rl%201&tag=a%26b&limit=1`,
      `${BASE}api/lineitems?url=${encodeURIComponent(next1)}`,
      `${BASE}api/lineitems?url=${encodeURIComponent(next2)}`,
    ]);
  });

  it("returns one page with its next, and takes a next URL", async () => {
    const { c, sent } = client(json({ lineItems: [item(1)], next: "https://n/2" }), json({ lineItems: [] }));
    const first = await c.listLineItemsPage(LTIK_AUTH, { resourceId: "quiz-1" });
    expect(first.next).toBe("https://n/2");
    expect(first.lineItems[0]).toMatchObject({ id: item(1).id, scoreMaximum: 10 });
    const second = await c.listLineItemsPage(LTIK_AUTH, { url: first.next! });
    expect(second).toEqual({ lineItems: [] });
    expect(sent[1].url).toBe(`${BASE}api/lineitems?url=https%3A%2F%2Fn%2F2`);
  });

  it("stops a paging loop", async () => {
    const { c } = client(json({ lineItems: [item(1)], next: "https://n/2" }), json({ lineItems: [item(2)], next: "https://n/2" }));
    expect((await failure(c.listLineItems(SVC_AUTH))).kind).toBe("bad_response");
  });

  it("encodes a line item id (a URL) in the path", async () => {
    const { c, sent } = client(json(item(7)), json({ ...item(8), label: undefined, scoreMaximum: "25" }));
    await c.getLineItem(SVC_AUTH, LINE_ITEM);
    expect(sent[0].url).toBe(`${BASE}api/lineitems/${encodeURIComponent(LINE_ITEM)}`);
    // Tolerates a missing label and a numeric string.
    await expect(c.getLineItem(SVC_AUTH, "x")).resolves.toMatchObject({ label: "", scoreMaximum: 25 });
  });

  it("creates a line item with only the given fields and parses the 201", async () => {
    const { c, sent } = client(json({ ...item(9), resourceLinkId: "rl1", tag: "gradesync" }, 201));
    const created = await c.createLineItem(SVC_AUTH, { label: "Lab 3", scoreMaximum: 10, resourceLinkId: "rl1", tag: "gradesync" });
    expect(created).toMatchObject({ id: item(9).id, resourceLinkId: "rl1", tag: "gradesync" });
    expect(JSON.parse(sent[0].body!)).toEqual({ label: "Lab 3", scoreMaximum: 10, resourceLinkId: "rl1", tag: "gradesync" });
    expect(sent[0].url).toBe(`${BASE}api/lineitems`);
  });

  it("refuses a line item without a positive maximum, before any request", async () => {
    const { c, sent } = client();
    const err = await failure(c.createLineItem(SVC_AUTH, { label: "x", scoreMaximum: 0 }));
    expect(err.kind).toBe("refused");
    expect(sent).toHaveLength(0);
  });

  it("runs beforeSend right before the create request, and sends nothing when it throws", async () => {
    const { c, sent } = client(json({ ...item(9), resourceLinkId: "rl1" }, 201));
    const order: string[] = [];
    await c.createLineItem(SVC_AUTH, { label: "Lab 3", scoreMaximum: 10 }, { beforeSend: async () => void order.push(`before:${sent.length}`) });
    expect(order).toEqual(["before:0"]);
    expect(sent).toHaveLength(1);
    const cancelled = new Error("claim lost");
    await expect(c.createLineItem(SVC_AUTH, { label: "Lab 3", scoreMaximum: 10 }, { beforeSend: () => Promise.reject(cancelled) })).rejects.toBe(cancelled);
    expect(sent).toHaveLength(1);
  });

  it("treats a created line item without id as a bad response", async () => {
    const { c } = client(json({ label: "x", scoreMaximum: 1 }, 201));
    expect((await failure(c.createLineItem(SVC_AUTH, { label: "x", scoreMaximum: 1 }))).kind).toBe("bad_response");
  });
});

describe("scores", () => {
  it("posts a score of 0 with its comment and no timestamp", async () => {
    const { c, sent } = client(noContent());
    await c.postScore(SVC_AUTH, LINE_ITEM, { ...score, scoreGiven: 0, comment: "" });
    expect(sent[0].url).toBe(`${BASE}api/lineitems/${encodeURIComponent(LINE_ITEM)}/scores`);
    expect(JSON.parse(sent[0].body!)).toEqual({
      userId: "u1",
      activityProgress: "Completed",
      gradingProgress: "FullyGraded",
      scoreGiven: 0,
      scoreMaximum: 10,
      comment: "",
    });
  });

  it("posts a score without a grade", async () => {
    const { c, sent } = client(noContent());
    await c.postScore(SVC_AUTH, LINE_ITEM, { userId: "u1", activityProgress: "Started", gradingProgress: "NotReady" });
    expect(JSON.parse(sent[0].body!)).toEqual({ userId: "u1", activityProgress: "Started", gradingProgress: "NotReady" });
  });

  it.each([
    ["negative", { ...score, scoreGiven: -1 }],
    ["no maximum with a grade", { userId: "u1", activityProgress: "Completed", gradingProgress: "FullyGraded", scoreGiven: 3 }],
    ["zero maximum", { ...score, scoreMaximum: 0 }],
    ["unknown progress", { ...score, gradingProgress: "Done" }],
    ["no user", { ...score, userId: "" }],
  ])("does not send an invalid score (%s)", async (_name, bad) => {
    const { c, sent } = client();
    const err = await failure(c.postScore(SVC_AUTH, LINE_ITEM, bad as never));
    expect(err.kind).toBe("not_gradable");
    expect(err.reason).toMatch(/^invalid request/);
    expect(sent).toHaveLength(0);
  });

  it("lists results across pages", async () => {
    const next = "https://lms.example.com/line_items/7/results?page=2";
    const { c, sent } = client(
      json({ scores: [{ id: "r1", userId: "u1", scoreOf: LINE_ITEM, resultScore: 0, resultMaximum: 10, comment: "ok" }], next }),
      json({ scores: [{ userId: 5 }] }),
    );
    const results = await c.listScores(SVC_AUTH, LINE_ITEM, { userId: "u1" });
    expect(results).toEqual([
      { id: "r1", userId: "u1", scoreOf: LINE_ITEM, resultScore: 0, resultMaximum: 10, comment: "ok" },
      { userId: "5" },
    ].map((r) => expect.objectContaining(r)));
    expect(sent.map((s) => s.url)).toEqual([
      `${BASE}api/lineitems/${encodeURIComponent(LINE_ITEM)}/scores?userId=u1`,
      `${BASE}api/lineitems/${encodeURIComponent(LINE_ITEM)}/scores?url=${encodeURIComponent(next)}`,
    ]);
  });
});

describe("submission times", () => {
  const submitted: Score = {
    ...score,
    submission: { startedAt: "2026-11-20T08:00:00Z", submittedAt: "2026-11-20T08:59:59.123+01:00" },
    "https://canvas.instructure.com/lti/submission": { prioritize_non_tool_grade: true, new_submission: false, submitted_at: "2026-11-20T08:59:59.123+01:00" },
  };

  it("sends the submission and Canvas's extension as given", async () => {
    const { c, sent } = client(noContent());
    await c.postScore(SVC_AUTH, LINE_ITEM, submitted);
    const body = JSON.parse(sent[0].body!);
    expect(body).toEqual({ ...score, submission: submitted.submission, "https://canvas.instructure.com/lti/submission": submitted["https://canvas.instructure.com/lti/submission"] });
    expect(body.submission.submittedAt).toBe("2026-11-20T08:59:59.123+01:00");
  });

  it("sends only the parts given", async () => {
    const { c, sent } = client(noContent(), noContent());
    await c.postScore(SVC_AUTH, LINE_ITEM, { ...score, submission: { submittedAt: "2026-11-20T08:00:00Z" } });
    await c.postScore(SVC_AUTH, LINE_ITEM, { ...score, "https://canvas.instructure.com/lti/submission": { new_submission: true } });
    expect(JSON.parse(sent[0].body!)).toEqual({ ...score, submission: { submittedAt: "2026-11-20T08:00:00Z" } });
    expect(JSON.parse(sent[1].body!)).toEqual({ ...score, "https://canvas.instructure.com/lti/submission": { new_submission: true } });
  });

  it.each([
    ["a date without a time", { submission: { submittedAt: "2026-11-20" } }],
    ["a time without a zone", { submission: { startedAt: "2026-11-20T08:00:00" } }],
    ["not a date", { "https://canvas.instructure.com/lti/submission": { submitted_at: "yesterday" } }],
    ["a flag that is not a boolean", { "https://canvas.instructure.com/lti/submission": { prioritize_non_tool_grade: "yes" } }],
  ])("does not send %s", async (_name, extra) => {
    const { c, sent } = client();
    const err = await failure(c.postScore(SVC_AUTH, LINE_ITEM, { ...score, ...extra } as never));
    expect(err.kind).toBe("not_gradable");
    expect(err.reason).toMatch(/^invalid request: (submission|https:\/\/canvas)/);
    expect(sent).toHaveLength(0);
  });
});

describe("results, a page at a time", () => {
  const scoresPath = `${BASE}api/lineitems/${encodeURIComponent(LINE_ITEM)}/scores`;

  it("reads a first page with a limit, then follows next through ?url=", async () => {
    const next = "https://lms.example.com/api/lti/courses/1/line_items/7/results?page=2&per_page=2";
    const { c, sent } = client(
      json({
        scores: [
          { id: "r1", userId: "u1", scoreOf: LINE_ITEM, resultScore: 7.5, resultMaximum: 10, comment: "ok", timestamp: "2026-11-20T08:00:00Z" },
          // A person cleared it, or the LMS keeps no score yet: no resultScore.
          { id: "r2", userId: 2, scoreOf: LINE_ITEM, resultScore: null, resultMaximum: 10 },
        ],
        next,
      }),
      json({ scores: [{ id: "r3", userId: "u3", resultScore: "4", resultMaximum: "5" }] }),
    );
    const first = await c.listResultsPage(SVC_AUTH, LINE_ITEM, { limit: 2 });
    expect(first.next).toBe(next);
    expect(first.results).toEqual([
      expect.objectContaining({ id: "r1", userId: "u1", scoreOf: LINE_ITEM, resultScore: 7.5, resultMaximum: 10, comment: "ok" }),
      expect.objectContaining({ id: "r2", userId: "2", resultMaximum: 10 }),
    ]);
    expect(first.results[1].resultScore).toBeUndefined();
    // Extra fields an LMS adds are kept, not refused.
    expect((first.results[0] as unknown as Record<string, unknown>).timestamp).toBe("2026-11-20T08:00:00Z");
    const second = await c.listResultsPage(SVC_AUTH, LINE_ITEM, { url: first.next! });
    expect(second).toEqual({ results: [expect.objectContaining({ id: "r3", userId: "u3", resultScore: 4, resultMaximum: 5 })] });
    expect(second.next).toBeUndefined();
    expect(sent.map((x) => x.url)).toEqual([`${scoresPath}?limit=2`, `${scoresPath}?url=${encodeURIComponent(next)}`]);
  });

  it("reads one user's result", async () => {
    const { c, sent } = client(json({ scores: [{ id: "r1", userId: "user 1&2", resultScore: 3, resultMaximum: 10 }] }), json({ scores: [] }));
    const page = await c.listResultsPage(SVC_AUTH, LINE_ITEM, { userId: "user 1&2" });
    expect(page.results.map((r) => r.userId)).toEqual(["user 1&2"]);
    expect(sent[0].url).toBe(`${scoresPath}?userId=user%201%262`);
    await expect(c.listResultsPage(SVC_AUTH, LINE_ITEM)).resolves.toEqual({ results: [] });
    expect(sent[1].url).toBe(scoresPath);
  });

  it("refuses bad queries before any request, and pages without a userId or scores array", async () => {
    const { c, sent } = client(json({ scores: [{ resultScore: 1 }] }), json({ results: [] }));
    for (const q of [{ limit: 0 }, { limit: 1.5 }, { userId: "" }, { url: "" }]) expect((await failure(c.listResultsPage(SVC_AUTH, LINE_ITEM, q))).kind).toBe("refused");
    expect((await failure(c.listResultsPage(SVC_AUTH, "", {}))).kind).toBe("refused");
    expect(sent).toHaveLength(0);
    expect((await failure(c.listResultsPage(SVC_AUTH, LINE_ITEM))).kind).toBe("bad_response");
    expect((await failure(c.listResultsPage(SVC_AUTH, LINE_ITEM))).kind).toBe("bad_response");
  });
});

describe("what each answer says about pacing", () => {
  const ok = () => json({ lineItems: [] });

  it("reports an answer without rate headers: status and latency only", async () => {
    const { c } = client(noContent());
    const seen: AnswerMeta[] = [];
    await c.postScore(SVC_AUTH, LINE_ITEM, score, { onAnswer: (a) => seen.push(a) });
    expect(seen).toEqual([{ status: 204, latencyMs: expect.any(Number) }]);
    expect(seen[0]).not.toHaveProperty("rateLimit");
    expect(seen[0].latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("reports the rate headers of a success and of a failure, which also carries them", async () => {
    const { c } = client(
      json({ lineItems: [] }, 200, { "x-rate-limit-remaining": "598.25", "x-request-cost": "1.75" }),
      text("", 429, { "retry-after": "3", "x-rate-limit-remaining": "0", "x-rate-limit-reset": "42", "x-request-cost": "10" }),
    );
    const seen: AnswerMeta[] = [];
    await c.listLineItemsPage(SVC_AUTH, {}, { onAnswer: (a) => seen.push(a) });
    const err = await failure(c.postScore(SVC_AUTH, LINE_ITEM, score, { onAnswer: (a) => seen.push(a) }));
    expect(seen).toEqual([
      { status: 200, latencyMs: expect.any(Number), rateLimit: { remaining: 598.25, cost: 1.75 } },
      { status: 429, latencyMs: expect.any(Number), rateLimit: { remaining: 0, resetSeconds: 42, cost: 10 } },
    ]);
    expect(err).toMatchObject({ kind: "retry_later", retryAfterSeconds: 3, rateLimit: { remaining: 0, resetSeconds: 42, cost: 10 } });
    expect(JSON.parse(JSON.stringify(err)).rateLimit).toEqual({ remaining: 0, resetSeconds: 42, cost: 10 });
    expect(inspect(err)).toContain("resetSeconds: 42");
  });

  it("ignores garbage rate headers rather than failing the call", async () => {
    const { c } = client(noContent(), json({ lineItems: [] }, 200, { "x-rate-limit-remaining": "lots", "x-rate-limit-reset": "-", "x-request-cost": "5" }));
    const seen: AnswerMeta[] = [];
    const onAnswer = (a: AnswerMeta) => seen.push(a);
    await c.postScore(SVC_AUTH, LINE_ITEM, score, { onAnswer });
    await c.listLineItemsPage(SVC_AUTH, {}, { onAnswer });
    expect(seen.map((a) => a.rateLimit)).toEqual([undefined, { cost: 5 }]);
  });

  it("reports a transport failure once, with no status", async () => {
    const { c } = client(() => {
      throw new TypeError("fetch failed", { cause: { code: "ECONNRESET" } });
    });
    const seen: AnswerMeta[] = [];
    await failure(c.postScore(SVC_AUTH, LINE_ITEM, score, { onAnswer: (a) => seen.push(a) }));
    expect(seen).toEqual([{ status: null, latencyMs: expect.any(Number) }]);
  });

  it("reports a 2xx that does not parse, and a bad_response carries the rate headers too", async () => {
    const { c } = client(text("<html/>", 200, { "x-rate-limit-remaining": "5" }));
    const seen: AnswerMeta[] = [];
    const err = await failure(c.listLineItemsPage(SVC_AUTH, {}, { onAnswer: (a) => seen.push(a) }));
    expect(err).toMatchObject({ kind: "bad_response", rateLimit: { remaining: 5 } });
    expect(seen.map((a) => a.status)).toEqual([200]);
  });

  it("reports every page of a call that follows pages", async () => {
    const { c } = client(
      json({ scores: [{ userId: "u1" }], next: "https://n/2" }, 200, { "x-rate-limit-remaining": "10" }),
      json({ scores: [{ userId: "u2" }], next: "https://n/3" }),
      json({ scores: [] }, 200, { "x-rate-limit-remaining": "8" }),
    );
    const seen: AnswerMeta[] = [];
    await c.listScores(SVC_AUTH, LINE_ITEM, {}, { onAnswer: (a) => seen.push(a) });
    expect(seen.map((a) => [a.status, a.rateLimit?.remaining])).toEqual([
      [200, 10],
      [200, undefined],
      [200, 8],
    ]);
  });

  it("reports before the call settles, and a throwing onAnswer changes nothing", async () => {
    const { c } = client(noContent(), text("", 422));
    const order: string[] = [];
    await c.postScore(SVC_AUTH, LINE_ITEM, score, { onAnswer: () => void order.push("answer") }).then(() => order.push("resolved"));
    await c
      .postScore(SVC_AUTH, LINE_ITEM, score, {
        onAnswer: () => {
          order.push("answer");
          throw new Error("bookkeeping broke");
        },
      })
      .catch((e: LtiaasError) => order.push(`rejected ${e.kind}`));
    expect(order).toEqual(["answer", "resolved", "answer", "rejected not_gradable"]);
  });

  it("reports nothing when nothing was sent", async () => {
    const { c, sent } = client();
    const seen: AnswerMeta[] = [];
    const onAnswer = (a: AnswerMeta) => seen.push(a);
    await failure(c.postScore(SVC_AUTH, LINE_ITEM, { ...score, scoreGiven: -1 }, { onAnswer }));
    await failure(c.postScore({ serviceKey: "" }, LINE_ITEM, score, { onAnswer }));
    await expect(c.postScore(SVC_AUTH, LINE_ITEM, score, { onAnswer, beforeSend: () => Promise.reject(new Error("no slot")) })).rejects.toThrow("no slot");
    expect(seen).toEqual([]);
    expect(sent).toHaveLength(0);
  });

  it("runs beforeSend before every request of every method", async () => {
    const { c, sent } = client(
      json(idToken),
      ok(),
      json({ lineItems: [], next: "https://n/2" }),
      ok(),
      json({ id: "li", label: "x", scoreMaximum: 1 }),
      noContent(),
      json({ scores: [] }),
      json({ scores: [], next: "https://n/2" }),
      json({ scores: [] }),
      json({ members: [] }),
    );
    const at: number[] = [];
    const opts = { beforeSend: async () => void at.push(sent.length) };
    await c.getIdToken(LTIK, opts);
    await c.listLineItemsPage(SVC_AUTH, {}, opts);
    await c.listLineItems(SVC_AUTH, {}, opts);
    await c.getLineItem(SVC_AUTH, "li", opts);
    await c.postScore(SVC_AUTH, LINE_ITEM, score, opts);
    await c.listResultsPage(SVC_AUTH, LINE_ITEM, {}, opts);
    await c.listScores(SVC_AUTH, LINE_ITEM, {}, opts);
    await c.listMembershipsPage(SVC_AUTH, {}, opts);
    // Each ran with exactly the requests before it sent (listLineItems and listScores: one per page).
    expect(at).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sent).toHaveLength(10);
  });
});

describe("memberships", () => {
  it("parses a page, defaulting status to Active and tolerating missing PII", async () => {
    const { c, sent } = client(
      json({
        id: "https://lms/nrps",
        context: { id: "c1", title: "Biology" },
        members: [
          { userId: "u1", roles: ["Learner"], name: "A", email: "a@x", picture: "https://p" },
          { userId: "u2", roles: ["Learner"], status: "Inactive" },
          { userId: 3, roles: ["Instructor"], status: "deleted", lis_person_sourcedid: "x" },
          { userId: "u4", roles: null, status: null },
        ],
        next: "https://lms/nrps?page=2",
      }),
    );
    const page = await c.listMembershipsPage(SVC_AUTH, { role: "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner", limit: 50, resourceLinkId: "rl1" });
    expect(sent[0].url).toBe(
      `${BASE}api/memberships?role=${encodeURIComponent("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner")}&limit=50&resourceLinkId=rl1`,
    );
    expect(page.context).toMatchObject({ id: "c1", title: "Biology" });
    expect(page.next).toBe("https://lms/nrps?page=2");
    expect(page.members.map((m) => [m.userId, m.status])).toEqual([
      ["u1", "Active"],
      ["u2", "Inactive"],
      ["3", "Deleted"],
      ["u4", "Active"],
    ]);
    expect(page.members[1].name).toBeUndefined();
    expect(page.members[3].roles).toEqual([]);
  });

  it("fetches the next page through ?url=", async () => {
    const { c, sent } = client(json({ members: [] }));
    const page = await c.listMembershipsPage(SVC_AUTH, { url: "https://lms/nrps?page=2&x=1" });
    expect(page).toEqual({ members: [] });
    expect(sent[0].url).toBe(`${BASE}api/memberships?url=${encodeURIComponent("https://lms/nrps?page=2&x=1")}`);
  });

  it("rejects a page without members", async () => {
    const { c } = client(json({ context: { id: "c1" } }));
    expect((await failure(c.listMembershipsPage(SVC_AUTH))).kind).toBe("bad_response");
  });
});

describe("secrets never leak through errors", () => {
  // What an LMS or LTIAAS could echo back: everything the request carried.
  const echo = `key=${API_KEY} ltik=${LTIK} svc=${SERVICE_KEY} auth=SERVICE-AUTH-V1 ${API_KEY}:${SERVICE_KEY} LTIK-AUTH-V2 ${API_KEY}:${LTIK}`;
  const replies: [string, () => Response][] = [
    ["LMS echo in text", () => text(echo, 422)],
    ["LMS echo in JSON", () => json({ errors: [{ message: echo }] }, 400)],
    ["LTIAAS description echo", () => ltiaasError(401, "INVALID_LTIK_AUTH_AUTHORIZATION_HEADER", echo)],
    ["rate limit echo", () => text(`Rate Limit Exceeded ${echo}`, 403)],
    ["bad 2xx", () => json({ lineItems: "nope", echo }, 200)],
  ];

  function assertClean(err: LtiaasError, auth: LtiaasAuth = SVC_AUTH) {
    const renderings = [
      err.message,
      String(err),
      err.stack ?? "",
      JSON.stringify(err),
      JSON.stringify({ err }),
      inspect(err, { depth: 10, showHidden: true }),
      inspect({ wrapped: err }, { depth: 10 }),
    ];
    const sent = "ltik" in auth ? auth.ltik : auth.serviceKey;
    for (const s of renderings) {
      expect(s).not.toContain(API_KEY);
      expect(s).not.toContain(sent);
    }
    // The useful part survives.
    expect(JSON.parse(JSON.stringify(err))).toMatchObject({ kind: err.kind, name: "LtiaasError" });
  }

  it.each(replies)("%s", async (_name, reply) => {
    for (const auth of [LTIK_AUTH, SVC_AUTH]) {
      const { c } = client(reply(), reply());
      const echoed = (e: LtiaasError) => assertClean(e, auth);
      if (!_name.startsWith("bad 2xx")) echoed(await failure(c.postScore(auth, LINE_ITEM, score)));
      echoed(await failure(c.listLineItemsPage(auth)));
    }
  });

  it("holds for transport errors whose cause quotes the request", async () => {
    const { c } = client(() => {
      throw new TypeError(`fetch failed ${API_KEY}`, { cause: { code: "ECONNRESET", headers: { authorization: serviceKeyHeader(API_KEY, SERVICE_KEY) } } });
    });
    const err = await failure(c.postScore(SVC_AUTH, LINE_ITEM, score));
    assertClean(err);
    expect(err.cause).toBeUndefined();
  });
});

describe("connection reuse", () => {
  let server: Server;
  let url: string;
  let connections = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        if (req.method === "POST" && req.url?.includes("bad")) {
          // A large error body: the client must drain it or the socket cannot be reused.
          res.writeHead(422, { "content-type": "application/json" });
          res.end(JSON.stringify({ errors: [{ message: "x".repeat(200_000) }] }));
        } else if (req.method === "POST") {
          res.writeHead(204);
          res.end();
        } else {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ lineItems: [] }));
        }
      });
    });
    server.on("connection", () => connections++);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("sends sequential requests, failures included, over the same sockets", async () => {
    const c = createLtiaasClient({ baseUrl: url, apiKey: API_KEY });
    // undici may open a second socket while the first request settles; count from a warm pool.
    await c.listLineItemsPage(SVC_AUTH);
    await c.listLineItemsPage(SVC_AUTH);
    const warm = connections;
    for (let i = 0; i < 6; i++) {
      await c.postScore(SVC_AUTH, "good", score);
      expect((await failure(c.postScore(SVC_AUTH, "bad", score))).kind).toBe("not_gradable");
      await c.listLineItemsPage(SVC_AUTH);
    }
    // An undrained error body would pin its socket and force a new one on every failure.
    expect(connections).toBe(warm);
  });
});

describe("the process-wide client", () => {
  afterEach(() => setEnvForTests(testEnv()));

  it("is built from env(), cached, and rebuilt when the configuration changes", () => {
    const a: LtiaasClient = ltiaas();
    expect(ltiaas()).toBe(a);
    setEnvForTests(testEnv({ LTIAAS_URL: "https://other.ltiaas.example" }));
    expect(ltiaas()).not.toBe(a);
  });

  it("calls the configured URL with the configured key", async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization}`);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ lineItems: [] }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      setEnvForTests(testEnv({ LTIAAS_URL: `http://127.0.0.1:${port}/emulator`, LTIAAS_API_KEY: "configured-key" }));
      await ltiaas().listLineItemsPage({ serviceKey: "s" });
      expect(seen).toEqual(["/emulator/api/lineitems SERVICE-AUTH-V1 configured-key:s"]);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
