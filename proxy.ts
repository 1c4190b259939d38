/**
 * Framing rules. LTI pages may be framed by the LMS that launched the session (its origin is in the
 * session) and nobody else; /admin is never framed. Pages without a valid session only show a
 * message, so they stay frameable to explain themselves inside the LMS.
 */
import { NextResponse, type NextRequest } from "next/server";
import { env } from "@/lib/env";
import { SESSION_COOKIE, SESSION_PARAM, sessionToken, verifySession } from "@/lib/session/session";

export async function proxy(request: NextRequest) {
  const response = NextResponse.next();
  const path = request.nextUrl.pathname;
  response.headers.set("referrer-policy", "no-referrer");
  response.headers.set("x-content-type-options", "nosniff");
  if (path.startsWith("/admin")) {
    response.headers.set("content-security-policy", "frame-ancestors 'none'");
    response.headers.set("x-frame-options", "DENY");
    return response;
  }
  const session = await verifySession(
    sessionToken({ query: request.nextUrl.searchParams.get(SESSION_PARAM), cookie: request.cookies.get(SESSION_COOKIE)?.value }),
  );
  if (session) {
    const ancestors = ["'self'"];
    ancestors.push(...session.lmsOrigins);
    // The bundled LMS simulator runs on the loopback addresses under another port or host.
    if (env().emulator) ancestors.push("http://127.0.0.1:*", "http://localhost:*");
    response.headers.set("content-security-policy", `frame-ancestors ${ancestors.join(" ")}`);
  }
  return response;
}

export const config = {
  matcher: ["/contexts/:path*", "/activity/:path*", "/admin/:path*", "/admin"],
};
