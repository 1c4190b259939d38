/**
 * Secrets never kept in text, in any form an LMS or LTIAAS may echo them: an answer quoting a
 * URL-encoded serviceKey once reached sync_attempts.error_code.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createLtiaasClient, LtiaasError } from "@/lib/ltiaas";
import { redact } from "@/lib/ltiaas/errors";
import { propertyOptions } from "../support/properties";

// Shaped like the real thing: a JWT-ish service key (base64url and dots) and an API key with symbols.
const SERVICE_KEY = "eyJhbGciOiJIUzI1NiJ9.eyJwbGF0Zm9ybSI6InAxIn0.c2lnbmF0dXJl+/=";
const API_KEY = "api key/with&odd=chars:ü";

const encodings: [string, (s: string) => string][] = [
  ["as it is", (s) => s],
  ["URL-encoded", encodeURIComponent],
  ["URL-encoded, lowercase hex", (s) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
  ["form-encoded", (s) => new URLSearchParams({ k: s }).toString().slice(2)],
  ["JSON-escaped", (s) => JSON.stringify(s).slice(1, -1)],
  ["base64", (s) => Buffer.from(s).toString("base64")],
  ["base64url", (s) => Buffer.from(s).toString("base64url")],
  ["base64 after a prefix (Basic auth)", (s) => Buffer.from(`user:${s}`).toString("base64")],
  ["base64 after a 2-byte prefix", (s) => Buffer.from(`ab${s}xyz`).toString("base64")],
  ["hex", (s) => Buffer.from(s).toString("hex")],
  ["HEX", (s) => Buffer.from(s).toString("hex").toUpperCase()],
];

/** What of the secret's encoded form survives: any run of 12 characters of it. */
function leaks(text: string, encoded: string): boolean {
  for (let i = 0; i + 12 <= encoded.length; i++) if (text.includes(encoded.slice(i, i + 12))) return true;
  return false;
}

describe("redact", () => {
  it.each(encodings)("removes a secret %s", (_name, encode) => {
    for (const secret of [SERVICE_KEY, API_KEY]) {
      const encoded = encode(secret);
      const out = redact(`LMS said: invalid token "${encoded}" (request id 42)`, [API_KEY, SERVICE_KEY]);
      expect(out).toContain("[redacted]");
      expect(leaks(out, encoded)).toBe(false);
      expect(out).toContain("(request id 42)");
    }
  });

  it("leaves text without a secret as it is", () => {
    const text = "User not found in course or is not a student (422); see https://lms.example.com/help?x=%20y";
    expect(redact(text, [API_KEY, SERVICE_KEY])).toBe(text);
  });

  it("holds for any secret and any surrounding text (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", minLength: 12, maxLength: 60 }),
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 40 }),
        fc.constantFrom(...encodings),
        (secret, before, after, [, encode]) => {
          const encoded = encode(secret);
          const out = redact(`${before}${encoded}${after}`, [secret]);
          return !out.includes(encoded) && !leaks(out, encode(secret));
        },
      ),
      propertyOptions("redact"),
    );
  });

  it("keeps an LTIAAS answer that echoes the encoded service key out of the error (and so of sync_attempts)", async () => {
    const body = { status: 400, error: "Bad Request", details: { message: `token ${encodeURIComponent(SERVICE_KEY)} is invalid`, description: Buffer.from(SERVICE_KEY).toString("base64") } };
    const client = createLtiaasClient({
      baseUrl: "https://acct.ltiaas.example",
      apiKey: API_KEY,
      fetch: (async () => new Response(JSON.stringify(body), { status: 400, headers: { "content-type": "application/json" } })) as typeof fetch,
    });
    const error = await client.postScore({ serviceKey: SERVICE_KEY }, "https://lms.example.com/li/1", { userId: "u", activityProgress: "Completed", gradingProgress: "FullyGraded" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LtiaasError);
    const kept = JSON.stringify(error);
    for (const form of [encodeURIComponent(SERVICE_KEY), Buffer.from(SERVICE_KEY).toString("base64")]) expect(leaks(kept, form)).toBe(false);
  });
});
