/** `npm run job` through the running app (lib/jobs/cli-app.ts): auth, body and the run live there. */
import { answerCliRequest } from "@/lib/jobs/cli-app";
import { withJsonErrors } from "../../_lib/json-errors";

export const dynamic = "force-dynamic";

export const POST = withJsonErrors("jobs-cli", async (req: Request): Promise<Response> => {
  const { status, body } = await answerCliRequest(req);
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
});
