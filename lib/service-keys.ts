/** State changes of a stored serviceKey that jobs make (launches make theirs in lib/launch/record). */
import { sql } from "drizzle-orm";
import type { Db } from "./db/client";

/**
 * A 401 on the key: the LMS no longer takes it. Work for that triple stops until the next launch
 * brings a fresh key (which sets the state back to active). Pass the sealed key the 401 answered:
 * a launch may have stored a fresh one while the request was out, and that one must stay active.
 */
export async function markKeyNeedsRelaunch(db: Db, linkRef: string, reason: string, sealed?: string): Promise<void> {
  await db.execute(sql`UPDATE service_keys SET state = 'needs_relaunch', state_reason = ${reason}::text, state_changed_at = now()
    WHERE resource_link_ref = ${linkRef}::uuid AND state <> 'needs_relaunch'
      ${sealed === undefined ? sql`` : sql`AND sealed = ${sealed}::text`}`);
}
