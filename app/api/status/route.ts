import { getDb } from "@/lib/db/client";
import { issuesOf } from "@/lib/grades/entry";
import { statusAuthorized } from "@/lib/status/access";
import { BadCursorError, listStatus, statusQuerySchema } from "@/lib/status/status";
import { withJsonErrors } from "../_lib/json-errors";

export const dynamic = "force-dynamic";

const json = (body: unknown, status = 200) => Response.json(body, { status, headers: { "cache-control": "no-store" } });

export const GET = withJsonErrors("status", async (req: Request): Promise<Response> => {
  if (!statusAuthorized(req)) return json({ error: "unauthorized" }, 401);
  const params = Object.fromEntries(new URL(req.url).searchParams);
  const query = statusQuerySchema.safeParse(params);
  if (!query.success) return json({ error: "invalid_query", issues: issuesOf(query.error) }, 400);
  try {
    return json(await listStatus(await getDb(), query.data));
  } catch (error) {
    if (error instanceof BadCursorError) return json({ error: "invalid_query", issues: [{ path: ["cursor"], message: "invalid cursor" }] }, 400);
    throw error;
  }
});
