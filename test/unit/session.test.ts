import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { createSession, sessionCookie, sessionToken, verifySession, withSession } from "@/lib/session/session";

const ids = { platformRef: crypto.randomUUID(), contextRef: crypto.randomUUID(), userRef: crypto.randomUUID() };

describe("launch sessions", () => {
  it("round-trips the context, user, role and LMS origins", async () => {
    const { token, expiresAt } = await createSession({ ...ids, role: "teacher", lmsOrigins: ["https://school.instructure.com"] });
    const s = await verifySession(token);
    expect(s).toMatchObject({ ...ids, role: "teacher", lmsOrigins: ["https://school.instructure.com"] });
    expect(expiresAt.getTime() - Date.now()).toBeGreaterThan(119 * 60_000);
  });

  it("rejects expired, forged and foreign tokens", async () => {
    const old = await createSession({ ...ids, role: "learner", lmsOrigins: [] }, new Date(Date.now() - 3 * 3600_000));
    expect(await verifySession(old.token)).toBeNull();
    const good = await createSession({ ...ids, role: "learner", lmsOrigins: [] });
    const [h, p, sig] = good.token.split(".");
    const payload = JSON.parse(Buffer.from(p, "base64url").toString());
    const forged = [h, Buffer.from(JSON.stringify({ ...payload, role: "teacher" })).toString("base64url"), sig].join(".");
    expect(await verifySession(forged)).toBeNull();
    const otherKey = await new SignJWT({ ...payload }).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode("another-secret-another-secret-123456"));
    expect(await verifySession(otherKey)).toBeNull();
    expect(await verifySession(undefined)).toBeNull();
    expect(await verifySession("x".repeat(5000))).toBeNull();
  });

  it("prefers the page's token over the cookie and builds a partitioned cookie", () => {
    expect(sessionToken({ query: "fromquery", cookie: "fromcookie" })).toBe("fromquery");
    // An empty `?s=` is no token: the cookie still opens the page.
    expect(sessionToken({ query: "", cookie: "fromcookie" })).toBe("fromcookie");
    expect(sessionToken({ query: null, cookie: "fromcookie" })).toBe("fromcookie");
    expect(sessionToken({ query: "" })).toBeUndefined();
    expect(sessionToken({})).toBeUndefined();
    const cookie = sessionCookie("tok", new Date(0));
    for (const part of ["HttpOnly", "Secure", "SameSite=None", "Partitioned", "Path=/"]) expect(cookie).toContain(part);
    expect(withSession("/contexts/abc?x=1#t", "tok")).toBe("/contexts/abc?x=1&s=tok#t");
  });
});
