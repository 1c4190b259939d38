import { receiveGradeWebhook } from "@/lib/grades/webhook";

export const dynamic = "force-dynamic";

export async function POST(req: Request): Promise<Response> {
  const answer = await receiveGradeWebhook(req);
  return Response.json(answer.body, { status: answer.status, headers: { "cache-control": "no-store" } });
}
