/**
 * Left alone, an exception in a route handler makes Next answer an empty 500 (and print the error,
 * whose message may quote a connection string or an LMS's answer). API clients — the grader, Vercel
 * cron, operators' scripts — get `{"error":"internal_error"}` instead; the log line keeps only the
 * error's name and code. (`_lib` is a private folder: no route.)
 */
import { errorFields, log } from "@/lib/log";

export function withJsonErrors<A extends unknown[]>(route: string, handler: (...args: A) => Promise<Response>) {
  return async (...args: A): Promise<Response> => {
    try {
      return await handler(...args);
    } catch (error) {
      log.error("route.failed", { route, ...errorFields(error) });
      return Response.json({ error: "internal_error" }, { status: 500, headers: { "cache-control": "no-store" } });
    }
  };
}
