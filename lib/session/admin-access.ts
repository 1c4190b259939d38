/**
 * Who may open /admin. With ADMIN_TOKEN set: whoever typed it into the sign-in form, remembered by a
 * cookie holding an expiry and an HMAC keyed by the token (never the token itself, so a leaked
 * cookie does not leak the secret and changing the token signs everyone out). Without a token:
 * in development, requests from the loopback only; in production, nobody.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const ADMIN_COOKIE = "gs_admin";
export const ADMIN_COOKIE_TTL_SECONDS = 12 * 60 * 60;

const PURPOSE = "gradesync admin sign-in v1";

function mac(token: string, expires: number): Buffer {
  return createHmac("sha256", token).update(`${PURPOSE}\n${expires}`).digest();
}

/** Timing-safe comparison of what was typed with the configured token. */
export function tokenMatches(typed: string, token: string): boolean {
  // Compare digests so the lengths are equal and the length of the token does not leak.
  const a = createHmac("sha256", PURPOSE).update(typed).digest();
  const b = createHmac("sha256", PURPOSE).update(token).digest();
  return timingSafeEqual(a, b);
}

export function adminCookieValue(token: string, now = new Date()): { value: string; expires: Date } {
  const expires = Math.floor(now.getTime() / 1000) + ADMIN_COOKIE_TTL_SECONDS;
  return { value: `${expires}.${mac(token, expires).toString("base64url")}`, expires: new Date(expires * 1000) };
}

export function verifyAdminCookie(value: string | undefined | null, token: string, now = new Date()): boolean {
  if (!value || value.length > 200) return false;
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return false;
  const expires = Number(m[1]);
  if (expires * 1000 <= now.getTime()) return false;
  const given = Buffer.from(m[2], "base64url");
  const expected = mac(token, expires);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

function hostname(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  return h.split(":")[0];
}

function loopbackAddress(address: string): boolean {
  const a = address.trim().toLowerCase().replace(/^\[|\]$/g, "");
  return a === "::1" || a === "localhost" || a.startsWith("127.") || a.startsWith("::ffff:127.");
}

/**
 * True when a request reached us on a loopback host and, if a proxy says where it came from, from a
 * loopback address. Used only in development without ADMIN_TOKEN. It reads headers only: Next fills
 * x-forwarded-for from the socket only when the client sent none, so a client on the network that
 * sends `Host: localhost` and `X-Forwarded-For: 127.0.0.1` passes. `next dev` listens on every
 * interface: on a reachable machine set ADMIN_TOKEN (or run `next dev -H 127.0.0.1`).
 */
export function isLoopbackRequest(headers: { get(name: string): string | null }): boolean {
  const host = headers.get("x-forwarded-host") ?? headers.get("host");
  if (!host || !LOOPBACK_HOSTS.has(hostname(host))) return false;
  for (const name of ["x-forwarded-for", "x-real-ip"]) {
    const value = headers.get(name);
    if (value && !value.split(",").every(loopbackAddress)) return false;
  }
  const forwarded = headers.get("forwarded");
  if (forwarded) {
    for (const m of forwarded.matchAll(/for="?([^;,"]+)"?/gi)) if (!loopbackAddress(m[1])) return false;
  }
  return true;
}

export type AdminAccess = "signed_in" | "sign_in" | "loopback" | "closed";

/** The access /admin grants a request, from the configuration, its headers and its admin cookie. */
export function adminAccess(input: {
  adminToken?: string;
  production: boolean;
  cookie?: string | null;
  headers: { get(name: string): string | null };
  now?: Date;
}): AdminAccess {
  if (input.adminToken) return verifyAdminCookie(input.cookie, input.adminToken, input.now) ? "signed_in" : "sign_in";
  if (input.production) return "closed";
  return isLoopbackRequest(input.headers) ? "loopback" : "closed";
}
