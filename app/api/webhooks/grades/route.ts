import { receiveGradeWebhook } from "@/lib/grades/webhook";
import { pushSoon } from "@/lib/jobs/requests";
import { withJsonErrors } from "../../_lib/json-errors";

export const dynamic = "force-dynamic";

export const POST = withJsonErrors("webhooks/grades", async (req: Request): Promise<Response> => {
  const answer = await receiveGradeWebhook(req);
  // Graded work does not wait for the nightly run.
  if (answer.changed) pushSoon(answer.changed);
  return Response.json(answer.body, { status: answer.status, headers: { "cache-control": "no-store" } });
});
