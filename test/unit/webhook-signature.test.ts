import { describe, expect, it } from "vitest";
import { createHmac } from "node:crypto";
import { signatureHeader, verifySignature } from "@/lib/grades/signature";

const secret = "test-webhook-secret-123456";
const body = new TextEncoder().encode('{"id":"d","scores":[]}');
const now = 1_795_000_000;

describe("grader webhook signature", () => {
  it("accepts HMAC-SHA256 over \"<t>.<raw body>\" in lowercase hex", () => {
    const v1 = createHmac("sha256", secret).update(`${now}.`).update(body).digest("hex");
    expect(verifySignature(`t=${now},v1=${v1}`, secret, body, now)).toEqual({ ok: true });
    expect(signatureHeader(secret, body, now)).toBe(`t=${now},v1=${v1}`);
  });

  it("accepts when one of several v1 matches, in any position", () => {
    const good = signatureHeader(secret, body, now).split(",")[1];
    const bad = signatureHeader("other-secret-000000000", body, now).split(",")[1];
    expect(verifySignature(`t=${now},${bad},${good}`, secret, body, now).ok).toBe(true);
    expect(verifySignature(`${good},t=${now}`, secret, body, now).ok).toBe(true);
  });

  it("refuses missing, malformed, mismatching and stale signatures", () => {
    expect(verifySignature(null, secret, body, now)).toEqual({ ok: false, reason: "missing" });
    expect(verifySignature("garbage", secret, body, now)).toEqual({ ok: false, reason: "malformed" });
    expect(verifySignature(`t=${now},v1=ABC`, secret, body, now)).toEqual({ ok: false, reason: "malformed" });
    expect(verifySignature(`t=${now}`, secret, body, now)).toEqual({ ok: false, reason: "malformed" });
    const other = signatureHeader(secret, new TextEncoder().encode("{}"), now);
    expect(verifySignature(other, secret, body, now)).toEqual({ ok: false, reason: "mismatch" });
    expect(verifySignature(signatureHeader(secret, body, now - 301), secret, body, now)).toEqual({ ok: false, reason: "stale" });
    expect(verifySignature(signatureHeader(secret, body, now + 301), secret, body, now)).toEqual({ ok: false, reason: "stale" });
    expect(verifySignature(signatureHeader(secret, body, now - 300), secret, body, now).ok).toBe(true);
  });
});
