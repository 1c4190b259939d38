/** Who may open /admin: the signed cookie (never the token itself), loopback-only without a token in development. */
import { describe, expect, it } from "vitest";
import { ADMIN_COOKIE_TTL_SECONDS, adminAccess, adminCookieValue, isLoopbackRequest, tokenMatches, verifyAdminCookie } from "@/lib/session/admin-access";

const TOKEN = "operator-token-1234567890";
const h = (v: Record<string, string>) => new Headers(v);

describe("admin sign-in", () => {
  it("compares the typed token exactly", () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(`${TOKEN} `, TOKEN)).toBe(false);
    expect(tokenMatches(TOKEN.slice(0, -1), TOKEN)).toBe(false);
    expect(tokenMatches("", TOKEN)).toBe(false);
  });

  it("signs a cookie that holds no trace of the token, expires, and breaks when tampered or the token changes", () => {
    const now = new Date("2026-11-27T08:00:00Z");
    const { value, expires } = adminCookieValue(TOKEN, now);
    expect(value).not.toContain(TOKEN);
    expect(value).not.toContain(Buffer.from(TOKEN).toString("base64url"));
    expect(expires.getTime()).toBe(now.getTime() + ADMIN_COOKIE_TTL_SECONDS * 1000);
    expect(verifyAdminCookie(value, TOKEN, now)).toBe(true);
    expect(verifyAdminCookie(value, "another-token-1234567890", now)).toBe(false);
    expect(verifyAdminCookie(value, TOKEN, new Date(expires.getTime() + 1000))).toBe(false);
    const [exp, mac] = value.split(".");
    expect(verifyAdminCookie(`${Number(exp) + 3600}.${mac}`, TOKEN, now)).toBe(false);
    expect(verifyAdminCookie(`${exp}.${mac[0] === "A" ? "B" : "A"}${mac.slice(1)}`, TOKEN, now)).toBe(false);
    expect(verifyAdminCookie(undefined, TOKEN, now)).toBe(false);
    expect(verifyAdminCookie("garbage", TOKEN, now)).toBe(false);
  });

  it("without a token: loopback only in development, closed in production", () => {
    expect(isLoopbackRequest(h({ host: "localhost:3000" }))).toBe(true);
    expect(isLoopbackRequest(h({ host: "127.0.0.1:3000", "x-forwarded-for": "127.0.0.1" }))).toBe(true);
    expect(isLoopbackRequest(h({ host: "[::1]:3000", "x-forwarded-for": "::1" }))).toBe(true);
    expect(isLoopbackRequest(h({ host: "gradesync.example.com" }))).toBe(false);
    expect(isLoopbackRequest(h({ host: "localhost:3000", "x-forwarded-for": "203.0.113.9" }))).toBe(false);
    expect(isLoopbackRequest(h({ host: "localhost:3000", "x-forwarded-for": "127.0.0.1, 203.0.113.9" }))).toBe(false);
    expect(isLoopbackRequest(h({ host: "localhost", "x-forwarded-host": "tool.example.com" }))).toBe(false);
    expect(isLoopbackRequest(h({ host: "localhost", forwarded: "for=203.0.113.9;proto=https" }))).toBe(false);
    expect(isLoopbackRequest(h({ host: "localhost.evil.com" }))).toBe(false);

    const local = h({ host: "localhost:3000" });
    expect(adminAccess({ production: false, headers: local })).toBe("loopback");
    expect(adminAccess({ production: true, headers: local })).toBe("closed");
    expect(adminAccess({ production: false, headers: h({ host: "tool.example.com" }) })).toBe("closed");
    // With a token, loopback grants nothing: the cookie decides.
    expect(adminAccess({ adminToken: TOKEN, production: false, headers: local })).toBe("sign_in");
    expect(adminAccess({ adminToken: TOKEN, production: true, headers: local, cookie: adminCookieValue(TOKEN).value })).toBe("signed_in");
  });
});
