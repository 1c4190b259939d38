/**
 * The grader webhook's signature: `X-Grader-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
 * "<t>.<raw body>")>`, several `v1=` allowed (secret rotation), one match suffices, and `t` within
 * 300 s of now. Comparisons are timing-safe.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const REPLAY_WINDOW_SECONDS = 300;

export function signBody(secret: string, t: number, rawBody: Uint8Array | string): string {
  return createHmac("sha256", secret).update(`${t}.`).update(rawBody).digest("hex");
}

/** A header for tests and the README's curl recipe. */
export function signatureHeader(secret: string, rawBody: Uint8Array | string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${signBody(secret, t, rawBody)}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: "missing" | "malformed" | "stale" | "mismatch" };

export function verifySignature(
  header: string | null,
  secret: string,
  rawBody: Uint8Array,
  nowSeconds = Math.floor(Date.now() / 1000),
): SignatureCheck {
  if (!header) return { ok: false, reason: "missing" };
  let t: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) return { ok: false, reason: "malformed" };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t") {
      if (!/^\d{1,12}$/.test(value) || t !== undefined) return { ok: false, reason: "malformed" };
      t = Number(value);
    } else if (key === "v1") {
      if (!/^[0-9a-f]{64}$/.test(value)) return { ok: false, reason: "malformed" };
      candidates.push(value);
    }
  }
  if (t === undefined || candidates.length === 0) return { ok: false, reason: "malformed" };
  if (Math.abs(nowSeconds - t) > REPLAY_WINDOW_SECONDS) return { ok: false, reason: "stale" };
  const expected = Buffer.from(signBody(secret, t, rawBody), "hex");
  let match = false;
  // Check every candidate (no early exit) so timing does not reveal which one matched.
  for (const c of candidates) match = timingSafeEqual(expected, Buffer.from(c, "hex")) || match;
  return match ? { ok: true } : { ok: false, reason: "mismatch" };
}
