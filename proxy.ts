/**
 * Framing rules. LTI pages may be framed by the LMS that launched the session (its origin is in the
 * session) and nobody else; /admin is never framed. Pages without a valid session only show a
 * message, so they stay frameable to explain themselves inside the LMS.
 *
 * It also turns away addresses whose percent-encoding is malformed (`/contexts/%ZZ`): Next cannot
 * decode such a dynamic segment and would answer a bare 500 of its own. And a POST whose form or
 * server action body Next could not read (see unreadablePost): every action here takes a form, and
 * the actions check their payload themselves too; here the caller gets a plain 400.
 */
import { NextResponse, type NextRequest } from "next/server";
import { UNREADABLE_FORM, unreadablePost } from "@/app/_lib/form-payload";
import { env } from "@/lib/env";
import { frameAncestors } from "@/lib/session/frame-ancestors";
import { SESSION_COOKIE, SESSION_PARAM, sessionToken, verifySession } from "@/lib/session/session";

function decodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** The site's own 404: JSON for the API, the not-found page (a path no route has) for pages. */
function notFound(request: NextRequest): NextResponse {
  if (request.nextUrl.pathname.startsWith("/api/"))
    return NextResponse.json({ error: "not_found" }, { status: 404, headers: { "cache-control": "no-store" } });
  return NextResponse.rewrite(new URL("/_gradesync/not-found", request.url), { status: 404 });
}

export async function proxy(request: NextRequest) {
  const path = request.nextUrl.pathname;
  if (!decodable(path)) return notFound(request);
  // Route handlers (/api) read their own bodies, in the order the contract gives.
  if (!path.startsWith("/api/") && (await unreadablePost(request)))
    return new NextResponse(UNREADABLE_FORM, { status: 400, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });
  const response = NextResponse.next();
  response.headers.set("referrer-policy", "no-referrer");
  response.headers.set("x-content-type-options", "nosniff");
  if (path.startsWith("/admin")) {
    response.headers.set("content-security-policy", "frame-ancestors 'none'");
    response.headers.set("x-frame-options", "DENY");
    return response;
  }
  if (!path.startsWith("/contexts/") && !path.startsWith("/activity/")) return response;
  const session = await verifySession(
    sessionToken({ query: request.nextUrl.searchParams.get(SESSION_PARAM), cookie: request.cookies.get(SESSION_COOKIE)?.value }),
  );
  if (session) {
    // The bundled LMS simulator runs on the loopback addresses under another port or host.
    const simulator = env().emulator ? ["http://127.0.0.1:*", "http://localhost:*"] : [];
    response.headers.set("content-security-policy", frameAncestors(session.lmsOrigins, simulator));
  }
  return response;
}

export const config = {
  matcher: [
    "/contexts/:path*",
    "/activity/:path*",
    "/admin/:path*",
    "/admin",
    "/api/cron/:path*",
    "/emulator/:path*",
    // Server actions and forms can be posted to any page's path.
    { source: "/:path*", has: [{ type: "header", key: "next-action" }] },
    { source: "/:path*", has: [{ type: "header", key: "content-type", value: ".*multipart/form-data.*" }] },
  ],
};
