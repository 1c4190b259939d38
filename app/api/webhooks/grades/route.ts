import { receiveGradeWebhook } from "@/lib/grades/webhook";
import { withJsonErrors } from "../../_lib/json-errors";

export const dynamic = "force-dynamic";

export const POST = withJsonErrors("webhooks/grades", async (req: Request): Promise<Response> => {
  const answer = await receiveGradeWebhook(req);
  return Response.json(answer.body, { status: answer.status, headers: { "cache-control": "no-store" } });
});
