/** The answer classification on its own: pure functions from status, headers and body to an outcome. */
import { describe, expect, it } from "vitest";
import {
  classify,
  parseRateLimit,
  parseRetryAfter,
  readErrorBody,
  throttled,
  timestampRefusal,
  transportReason,
  unreachable,
  type CallKind,
  type ErrorAnswer,
  type Outcome,
} from "@/lib/ltiaas";

const SCORE: CallKind = { auth: "serviceKey", scorePost: true };
const LIST: CallKind = { auth: "serviceKey", scorePost: false };
const LTIK_READ: CallKind = { auth: "ltik", scorePost: false };
const NOW = Date.parse("2026-11-27T10:00:00Z");

const ltiaasBody = (status: number, message: string, description?: string) =>
  JSON.stringify({ status, error: "Bad Request", details: { message, ...(description ? { description } : {}) } });

const headers = (h: Record<string, string>) => (name: string) => h[name];

describe("the outcome table", () => {
  type Case = [name: string, call: CallKind, answer: ErrorAnswer, expected: Partial<Outcome>];
  const cases: Case[] = [
    // Throttles and outages.
    ["429 with Retry-After seconds", SCORE, { status: 429, text: "Too Many Requests", retryAfter: "30" }, { kind: "retry_later", retryAfterSeconds: 30, fromLms: true }],
    ["429 with an HTTP-date Retry-After", SCORE, { status: 429, text: "", retryAfter: "Fri, 27 Nov 2026 10:01:30 GMT" }, { kind: "retry_later", retryAfterSeconds: 90 }],
    ["429 without Retry-After", LIST, { status: 429, text: "" }, { kind: "retry_later", retryAfterSeconds: undefined }],
    [
      "Canvas 403 throttle: no Retry-After, bucket empty",
      SCORE,
      { status: 403, text: "403 Forbidden (Rate Limit Exceeded)", rateLimit: { remaining: 0, cost: 50 } },
      { kind: "retry_later", status: 403, retryAfterSeconds: undefined, rateLimit: { remaining: 0, cost: 50 } },
    ],
    ["Canvas 403 with only X-Rate-Limit-Remaining 0", SCORE, { status: 403, text: "Forbidden", rateLimit: { remaining: 0 } }, { kind: "retry_later" }],
    ["403 with bucket left is not a throttle", SCORE, { status: 403, text: "Forbidden", rateLimit: { remaining: 350.5 } }, { kind: "refused", rateLimit: { remaining: 350.5 } }],
    ["503", LIST, { status: 503, text: "<h1>Service Unavailable</h1>", retryAfter: "5" }, { kind: "retry_later", retryAfterSeconds: 5, reason: "Service Unavailable" }],
    ["408", LIST, { status: 408, text: "" }, { kind: "retry_later" }],
    // Score refusals.
    ["LMS 422 not a student", SCORE, { status: 422, text: JSON.stringify({ errors: { message: "User not found in course or is not a student" } }) }, { kind: "not_gradable", fromLms: true }],
    ["LMS 400 incorrect score", SCORE, { status: 400, text: JSON.stringify({ message: "Incorrect score received" }) }, { kind: "not_gradable", reason: "Incorrect score received", fromLms: true }],
    ["LMS 400 as plain text", SCORE, { status: 400, text: "Bad Request" }, { kind: "not_gradable", fromLms: true }],
    ["LTIAAS-shaped 400 (a field refused)", SCORE, { status: 400, text: ltiaasBody(400, "INVALID_PARAMETERS", "submission.submittedAt: invalid") }, { kind: "refused", code: "INVALID_PARAMETERS", reason: "submission.submittedAt: invalid", fromLms: false }],
    ["LTIAAS-shaped 400 with prose", SCORE, { status: 400, text: ltiaasBody(400, "Unknown field prioritize_non_tool_grade") }, { kind: "refused", fromLms: false }],
    ["LTIAAS-shaped 400 account refusal", SCORE, { status: 400, text: ltiaasBody(400, "INACTIVE_SERVICE") }, { kind: "refused", code: "INACTIVE_SERVICE" }],
    ["LTIAAS-shaped 422 relaying the LMS stays not gradable", SCORE, { status: 422, text: ltiaasBody(422, "User not found in course or is not a student") }, { kind: "not_gradable", fromLms: false }],
    ["LTIAAS-shaped 422 account refusal", SCORE, { status: 422, text: ltiaasBody(422, "SERVICE_NOT_AVAILABLE_FOR_CONTEXT") }, { kind: "refused" }],
    // Timestamp refusals keep their own kind, whatever shape they come in.
    [
      "Canvas 400 timestamp refusal",
      SCORE,
      { status: 400, text: JSON.stringify({ errors: [{ message: "Provided timestamp of 2026-01-01T00:00:00Z before last updated timestamp of 2026-01-01T00:00:01Z" }] }) },
      { kind: "conflict", status: 400, retryAfterSeconds: 1 },
    ],
    [
      "Canvas 400 timestamp refusal relayed in LTIAAS's shape",
      SCORE,
      { status: 400, text: ltiaasBody(400, "Provided timestamp of 2026-01-01T00:00:00Z before last updated timestamp of 2026-01-01T00:00:01Z") },
      { kind: "conflict", status: 400, fromLms: false },
    ],
    ["Moodle 409 timestamp refusal", SCORE, { status: 409, text: JSON.stringify({ message: "Refusing score with an earlier timestamp" }) }, { kind: "conflict", status: 409, retryAfterSeconds: 1 }],
    ["409 with a longer Retry-After", SCORE, { status: 409, text: "", retryAfter: "3" }, { kind: "conflict", retryAfterSeconds: 3 }],
    ["a 400 on a list is refused, timestamp words or not", LIST, { status: 400, text: "timestamp before" }, { kind: "refused" }],
    // Auth, missing things, the rest.
    ["401 on a service key", SCORE, { status: 401, text: ltiaasBody(401, "INVALID_SERVICE_KEY_AUTH", "Invalid service key.") }, { kind: "needs_relaunch", code: "INVALID_SERVICE_KEY_AUTH" }],
    ["401 on an ltik", LTIK_READ, { status: 401, text: "" }, { kind: "refused" }],
    ["404", SCORE, { status: 404, text: "Not Found" }, { kind: "not_found" }],
    ["302 is not followed", LIST, { status: 302, text: "" }, { kind: "bad_response", reason: "unexpected HTTP 302" }],
    ["rate headers ride on any error", LIST, { status: 500, text: "", rateLimit: { remaining: 12, resetSeconds: 30, cost: 10 } }, { kind: "retry_later", rateLimit: { remaining: 12, resetSeconds: 30, cost: 10 } }],
  ];

  it.each(cases)("%s", (_name, call, answer, expected) => {
    const out = classify(call, answer, NOW);
    expect(out).toMatchObject(expected);
    for (const [k, v] of Object.entries(expected)) if (v === undefined) expect(out[k as keyof Outcome], k).toBeUndefined();
  });

  it("tells timestamp refusals apart from other score refusals", () => {
    expect(timestampRefusal(SCORE, { status: 409, text: "Refusing score with an earlier timestamp" })).toBe(true);
    expect(timestampRefusal(SCORE, { status: 400, text: "Provided timestamp … before last updated timestamp" })).toBe(true);
    expect(timestampRefusal(SCORE, { status: 400, text: "Incorrect score received" })).toBe(false);
    expect(timestampRefusal(SCORE, { status: 400, text: "timestamp is required" })).toBe(false);
    expect(timestampRefusal(LIST, { status: 409, text: "Refusing score with an earlier timestamp" })).toBe(false);
  });

  it("knows a throttle by status, body or empty bucket", () => {
    expect(throttled({ status: 429, text: "" })).toBe(true);
    expect(throttled({ status: 403, text: "Rate Limit Exceeded" })).toBe(true);
    expect(throttled({ status: 403, text: "", rateLimit: { remaining: -3.5 } })).toBe(true);
    expect(throttled({ status: 403, text: "", rateLimit: { cost: 50 } })).toBe(false);
    expect(throttled({ status: 403, text: "" })).toBe(false);
    expect(throttled({ status: 400, text: "Rate Limit Exceeded" })).toBe(false);
  });
});

describe("error bodies", () => {
  it("reads LTIAAS's shape: a code-like message is the code, the description the reason", () => {
    expect(readErrorBody(ltiaasBody(401, "INVALID_LTIK_AUTH_AUTHORIZATION_HEADER", "Invalid or expired ltik."))).toEqual({
      fromLms: false,
      code: "INVALID_LTIK_AUTH_AUTHORIZATION_HEADER",
      reason: "Invalid or expired ltik.",
    });
    expect(readErrorBody(ltiaasBody(400, "UNREGISTERED_OR_INACTIVE_PLATFORM"))).toEqual({ fromLms: false, code: "UNREGISTERED_OR_INACTIVE_PLATFORM", reason: "Bad Request" });
    expect(readErrorBody(ltiaasBody(422, "User not found"))).toEqual({ fromLms: false, code: undefined, reason: "User not found" });
  });

  it("finds a message in whatever an LMS sent", () => {
    expect(readErrorBody(JSON.stringify({ errors: [{ message: "Canvas says no" }] }))).toEqual({ fromLms: true, reason: "Canvas says no" });
    expect(readErrorBody(JSON.stringify({ detail: "D2L says no" }))).toEqual({ fromLms: true, reason: "D2L says no" });
    expect(readErrorBody("<html><style>p{}</style><p>Gateway   down</p></html>")).toEqual({ fromLms: true, reason: "Gateway down" });
    expect(readErrorBody("")).toEqual({ fromLms: true, reason: undefined });
    // LTIAAS's shape needs `details`: without it the body is the LMS's.
    expect(readErrorBody(JSON.stringify({ status: 400, error: "Bad Request" })).fromLms).toBe(true);
  });
});

describe("headers", () => {
  it("reads Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("120", NOW)).toBe(120);
    expect(parseRetryAfter("Fri, 27 Nov 2026 10:01:30 GMT", NOW)).toBe(90);
    expect(parseRetryAfter("Fri, 27 Nov 2026 09:00:00 GMT", NOW)).toBe(0);
    for (const bad of ["soon", "-5", "1.5", "", null, undefined]) expect(parseRetryAfter(bad, NOW)).toBeUndefined();
  });

  it("reads the rate headers, fractional values included", () => {
    expect(parseRateLimit(headers({ "x-rate-limit-remaining": "599.8", "x-request-cost": "50.25" }))).toEqual({ remaining: 599.8, cost: 50.25 });
    expect(parseRateLimit(headers({ "x-rate-limit-remaining": "0.0" }))).toEqual({ remaining: 0 });
    expect(parseRateLimit(headers({ "x-rate-limit-remaining": " 49990 ", "x-rate-limit-reset": "42", "x-request-cost": "10" }))).toEqual({
      remaining: 49990,
      resetSeconds: 42,
      cost: 10,
    });
    // Canvas's bucket can run past its mark.
    expect(parseRateLimit(headers({ "x-rate-limit-remaining": "-12.5" }))).toEqual({ remaining: -12.5 });
  });

  it("is absent without rate headers, and ignores garbage rather than throwing", () => {
    expect(parseRateLimit(headers({}))).toBeUndefined();
    expect(parseRateLimit(headers({ "x-rate-limit-remaining": "", "x-rate-limit-reset": "soon", "x-request-cost": "NaN" }))).toBeUndefined();
    for (const junk of ["Infinity", "0x10", "1e3", "1,5", "--1", "1.", ".5"]) expect(parseRateLimit(headers({ "x-rate-limit-remaining": junk })), junk).toBeUndefined();
    // A reset or cost below zero means nothing; the readable rest is kept.
    expect(parseRateLimit(headers({ "x-rate-limit-remaining": "5", "x-rate-limit-reset": "-1", "x-request-cost": "-2" }))).toEqual({ remaining: 5 });
  });
});

describe("transport failures", () => {
  it("names a timeout, or only the error's code", () => {
    expect(transportReason(Object.assign(new Error("x"), { name: "TimeoutError" }), 20)).toBe("timed out after 20 ms");
    expect(transportReason(new DOMException("aborted", "AbortError"), 5)).toBe("timed out after 5 ms");
    expect(transportReason(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }), 1)).toBe("connection failed (ECONNREFUSED)");
    expect(transportReason(new TypeError("fetch failed", { cause: { code: "ECONNRESET" } }), 1)).toBe("connection failed (ECONNRESET)");
    expect(transportReason(Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }), 1)).toBe("connection failed (UND_ERR_SOCKET)");
    // A "code" that is not one could be anything the request carried.
    expect(transportReason(Object.assign(new Error("x"), { code: "SERVICE-AUTH-V1 key:secret" }), 1)).toBe("connection failed");
    expect(transportReason(undefined, 1)).toBe("connection failed");
  });
});

describe("unreachable: nothing reached LTIAAS", () => {
  const failed = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

  it("is a refused connection, an unknown or unresolvable host, no route, a connect that never completed", () => {
    for (const code of ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]) expect(unreachable(failed(code)), code).toBe(true);
    expect(unreachable(new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } }))).toBe(true);
    // Node tries every address of a name (IPv6 and IPv4): all refused arrive as one AggregateError.
    expect(unreachable(Object.assign(new AggregateError([failed("ECONNREFUSED"), failed("ECONNREFUSED")]), { code: undefined }))).toBe(true);
  });

  it("is not a failure once connected (the request may have been processed), nor a timeout, nor an unknown error", () => {
    for (const code of ["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_HEADERS_TIMEOUT"]) expect(unreachable(failed(code)), code).toBe(false);
    expect(unreachable(Object.assign(new Error("x"), { name: "TimeoutError", code: "ECONNREFUSED" }))).toBe(false);
    expect(unreachable(new Error("x"))).toBe(false);
    expect(unreachable(undefined)).toBe(false);
  });
});
