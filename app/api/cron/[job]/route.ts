import { handleCron } from "@/lib/jobs/cron";
import { withJsonErrors } from "../../_lib/json-errors";

export const dynamic = "force-dynamic";
// An inline run goes to completion inside the request.
export const maxDuration = 300;

type Ctx = { params: Promise<{ job: string }> };

const handle = withJsonErrors("cron", async (req: Request, ctx: Ctx): Promise<Response> => {
  const { job } = await ctx.params;
  const answer = await handleCron(job, req);
  return Response.json(answer.body, { status: answer.status, headers: { "cache-control": "no-store", ...answer.headers } });
});

export const GET = handle;
export const POST = handle;
export const PUT = handle;
export const PATCH = handle;
export const DELETE = handle;
