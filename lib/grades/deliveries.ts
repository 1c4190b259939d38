/** Webhook delivery ids are kept at least 30 days (README); older ones are pruned nightly. */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";

export const DELIVERY_RETENTION_DAYS = 35;

export async function pruneDeliveries(db: Db, days = DELIVERY_RETENTION_DAYS): Promise<number> {
  const rows = await rowsOf<{ n: number }>(db, sql`WITH d AS (DELETE FROM webhook_deliveries
      WHERE received_at < now() - make_interval(days => ${Math.max(30, days)}::int) RETURNING 1)
    SELECT count(*)::int AS n FROM d`);
  return Number(rows[0]?.n ?? 0);
}
