import { getDb } from "@/lib/db/client";
import { errorFields, log } from "@/lib/log";
import { HEALTH_KINDS } from "@/lib/jobs/table";
import { getHealth } from "@/lib/status/health";

export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  try {
    const health = await getHealth(await getDb(), HEALTH_KINDS);
    return Response.json(health, { headers: { "cache-control": "no-store" } });
  } catch (error) {
    log.warn("health.db_unreachable", errorFields(error));
    return Response.json({ ok: false, db: "unreachable" }, { status: 503, headers: { "cache-control": "no-store" } });
  }
}
