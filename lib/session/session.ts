/**
 * Launch sessions: an HS256 JWT bound to one (platform, LMS context), one user and their role. It
 * must survive inside an LMS iframe whose browser blocks third-party cookies, so it travels two ways:
 * a partitioned cookie (CHIPS: kept per top-level site, allowed when third-party cookies are not) and
 * a token in the page's own links and forms (`?s=`), which wins when both are present so two courses
 * open in two tabs never mix.
 */
import { jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { env } from "../env";

export const SESSION_COOKIE = "gs_session";
export const SESSION_PARAM = "s";

export type SessionRole = "teacher" | "learner";

export interface Session {
  platformRef: string;
  contextRef: string;
  userRef: string;
  role: SessionRole;
  /** Origins of the launching LMS, allowed to frame the tool's pages. */
  lmsOrigins: string[];
  expiresAt: Date;
}

const claims = z.object({
  plt: z.string().uuid(),
  ctx: z.string().uuid(),
  sub: z.string().uuid(),
  role: z.enum(["teacher", "learner"]),
  lms: z.array(z.string()).max(4).optional(),
  exp: z.number(),
});

const AUDIENCE = "gradesync:launch";

function secret(): Uint8Array {
  return new TextEncoder().encode(env().sessionSecret);
}

export async function createSession(s: Omit<Session, "expiresAt">, now = new Date()): Promise<{ token: string; expiresAt: Date }> {
  const ttlSeconds = env().sessionTtlMinutes * 60;
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  const token = await new SignJWT({ plt: s.platformRef, ctx: s.contextRef, role: s.role, ...(s.lmsOrigins.length ? { lms: s.lmsOrigins } : {}) })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(s.userRef)
    .setAudience(AUDIENCE)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(secret());
  return { token, expiresAt };
}

/** The session a token stands for, or null when it is missing, forged, expired or malformed. */
export async function verifySession(token: string | null | undefined): Promise<Session | null> {
  if (!token || token.length > 4096) return null;
  try {
    const { payload } = await jwtVerify(token, secret(), { algorithms: ["HS256"], audience: AUDIENCE });
    const c = claims.parse(payload);
    return { platformRef: c.plt, contextRef: c.ctx, userRef: c.sub, role: c.role, lmsOrigins: c.lms ?? [], expiresAt: new Date(c.exp * 1000) };
  } catch {
    return null;
  }
}

/**
 * The token a request carries: `?s=` first (the page's own links), else the partitioned cookie. An
 * empty `?s=` counts as none, so the cookie still opens the page.
 */
export function sessionToken(input: { query?: string | null; cookie?: string }): string | undefined {
  return input.query || input.cookie || undefined;
}

/**
 * Set-Cookie for the session. `Secure` is accepted on http://localhost by browsers (a secure
 * context); SameSite=None + Partitioned is what a third-party iframe may still store.
 */
export function sessionCookie(token: string, expiresAt: Date): string {
  return `${SESSION_COOKIE}=${token}; Path=/; Expires=${expiresAt.toUTCString()}; HttpOnly; Secure; SameSite=None; Partitioned`;
}

/** A path with the session token appended, for links and redirects inside the iframe. */
export function withSession(path: string, token: string): string {
  const url = new URL(path, "http://x");
  url.searchParams.set(SESSION_PARAM, token);
  return `${url.pathname}${url.search}${url.hash}`;
}
