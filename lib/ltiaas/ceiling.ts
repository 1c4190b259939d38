/**
 * A platform's ceiling of requests in flight: PLATFORM_CONCURRENCY, unless an operator set another
 * one for it (on /admin or with `npm run job -- platform --platform ID --concurrency N`).
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";

export const MAX_CEILING = 16;

/** Sets (1–16) or clears (null) the operator's ceiling; answers whether the platform exists. */
export async function setCeiling(db: Db, platformId: string, ceiling: number | null): Promise<boolean> {
  if (ceiling !== null && (!Number.isInteger(ceiling) || ceiling < 1 || ceiling > MAX_CEILING)) throw new RangeError(`a ceiling is 1 to ${MAX_CEILING}`);
  const rows = await rowsOf<{ id: string }>(
    db,
    sql`UPDATE platforms SET concurrency_ceiling = ${ceiling}::int,
          -- A window above a lowered ceiling comes down with it; a raised one is reached by pacing.
          pacing_window = CASE WHEN pacing_window IS NULL THEN NULL ELSE least(pacing_window, coalesce(${ceiling}::int, pacing_window)) END,
          updated_at = now()
        WHERE platform_id = ${platformId}::text RETURNING id`,
  );
  return rows.length > 0;
}
