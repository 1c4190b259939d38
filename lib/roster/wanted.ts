/** Whether a context's roster should be refreshed soon (after a teacher's launch): stale, and refreshable. */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";
import { rosterStale } from "./targets";

/** Stale (or never refreshed), not paused, and some resource link has an active Names-and-Roles key. */
export async function rosterRefreshWanted(db: Db, contextRef: string, maxAgeHours: number): Promise<{ platformId: string } | null> {
  const rows = await rowsOf<{ platform_id: string }>(db, sql`SELECT p.platform_id FROM contexts c JOIN platforms p ON p.id = c.platform_ref
    WHERE c.id = ${contextRef}::uuid
      AND ${rosterStale(maxAgeHours)}
      AND p.paused_at IS NULL
      AND EXISTS (SELECT 1 FROM resource_links rl JOIN service_keys sk ON sk.resource_link_ref = rl.id
                  WHERE rl.context_ref = c.id AND sk.has_nrps AND sk.state = 'active' AND rl.paused_at IS NULL)`);
  return rows[0] ? { platformId: rows[0].platform_id } : null;
}
