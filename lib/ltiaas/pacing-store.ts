/**
 * The pacing window and throttled answers, kept per platform in the database: so every process (a
 * step under Inngest may run anywhere) starts from what the others learned, /admin shows the window,
 * and the `throttled` alert can see the last hour.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";
import type { PlatformGate } from "./gate";

/** Sets the gate's ceiling for the platform (and its window: `adopt` takes the shared one). */
export async function loadPacing(db: Db, gate: PlatformGate, platformId: string, adopt: boolean): Promise<void> {
  const [p] = await rowsOf<{ concurrency_ceiling: number | null; pacing_window: number | null }>(
    db,
    sql`SELECT concurrency_ceiling, pacing_window FROM platforms WHERE platform_id = ${platformId}::text`,
  );
  gate.configure(platformId, { ceiling: p?.concurrency_ceiling ?? null, window: p?.pacing_window ?? null, adopt });
}

/** Writes the window now and the throttled answers since the last save (per minute). */
export async function savePacing(db: Db, gate: PlatformGate, platformId: string): Promise<void> {
  const throttled = gate.takeThrottled(platformId);
  await db.execute(sql`WITH p AS (
      UPDATE platforms SET pacing_window = ${gate.window(platformId)}::int, pacing_updated_at = now()
      WHERE platform_id = ${platformId}::text RETURNING id
    )
    INSERT INTO platform_throttles (platform_ref, minute, answers)
    SELECT id, date_trunc('minute', now()), ${throttled}::int FROM p WHERE ${throttled}::int > 0
    ON CONFLICT (platform_ref, minute) DO UPDATE SET answers = platform_throttles.answers + excluded.answers`);
}
