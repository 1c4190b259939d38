import { refreshRosterSoon } from "@/lib/jobs/requests";
import { launch } from "@/lib/launch/launch";
import { errorFields, log } from "@/lib/log";
import { messagePage } from "@/lib/html";
import { sessionCookie, withSession } from "@/lib/session/session";

export const dynamic = "force-dynamic";

const htmlHeaders = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  // The token rides in the URL inside the iframe: never hand it to another site.
  "referrer-policy": "no-referrer",
};

export async function GET(request: Request): Promise<Response> {
  const ltik = new URL(request.url).searchParams.get("ltik");
  try {
    const result = await launch(ltik);
    if (!result.ok) {
      // The operator's answer to "why could this user not get in?" (the user sees only the words).
      log.info("launch.rejected", { status: result.status, code: result.code });
      return new Response(messagePage(result.title, result.message), { status: result.status, headers: htmlHeaders });
    }
    // Off the launch's path (never throws): a teacher sees a fresh roster soon.
    if (result.role === "teacher") void refreshRosterSoon(result.refs.contextRef);
    const headers = new Headers({ location: withSession(result.location, result.token), "cache-control": "no-store", "referrer-policy": "no-referrer" });
    headers.append("set-cookie", sessionCookie(result.token, result.expiresAt));
    return new Response(null, { status: 303, headers });
  } catch (error) {
    log.error("launch.failed", errorFields(error));
    return new Response(
      messagePage("Something went wrong on our side", "Your launch could not be saved. Open the assignment again from your course in a minute; if it keeps happening, tell your administrator."),
      { status: 500, headers: htmlHeaders },
    );
  }
}

export function POST(): Response {
  return new Response(messagePage("Use a launch link", "LTIAAS sends you here with a GET request carrying an ltik."), { status: 405, headers: { ...htmlHeaders, allow: "GET" } });
}
