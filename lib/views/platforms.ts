/**
 * /admin's platforms table: per LMS platform its ceiling of requests in flight (PLATFORM_CONCURRENCY
 * or the operator's own), the pacing window now (kept in the database by lib/ltiaas/pacing-store),
 * throttling answers in the last hour, whether an operator paused it, and how many links it has.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf, toDate, toNumber } from "../db/rows";

export interface PlatformRow {
  platformId: string;
  name: string | null;
  productFamilyCode: string | null;
  /** The ceiling in force, and whether an operator set it (else PLATFORM_CONCURRENCY). */
  ceiling: number;
  ownCeiling: boolean;
  /** Requests in flight the pacing allows now (the ceiling until an answer lowered it). */
  window: number;
  windowUpdatedAt: Date | null;
  /** Throttling answers (429, Canvas's 403 "Rate Limit Exceeded") in the last hour. */
  throttledLastHour: number;
  pausedAt: Date | null;
  links: number;
}

/** At most this many platforms are listed (an installation has a handful; the rest are counted). */
export const PLATFORMS_SHOWN = 200;

export async function platformRows(db: Db, input: { defaultCeiling: number; now?: Date }): Promise<{ rows: PlatformRow[]; total: number }> {
  const since = new Date((input.now ?? new Date()).getTime() - 3_600_000).toISOString();
  const raw = await rowsOf<{
    platform_id: string; name: string | null; product_family_code: string | null; concurrency_ceiling: number | null; pacing_window: number | null;
    pacing_updated_at: Date | string | null; paused_at: Date | string | null; throttled: number | string | null; links: number | string; total: number | string;
  }>(
    db,
    sql`SELECT p.platform_id, p.name, p.product_family_code, p.concurrency_ceiling, p.pacing_window, p.pacing_updated_at, p.paused_at,
          (SELECT sum(t.answers) FROM platform_throttles t WHERE t.platform_ref = p.id AND t.minute >= ${since}::timestamptz) AS throttled,
          (SELECT count(*) FROM contexts c JOIN resource_links rl ON rl.context_ref = c.id WHERE c.platform_ref = p.id) AS links,
          count(*) OVER () AS total
        FROM platforms p ORDER BY p.paused_at IS NULL, lower(coalesce(p.name, p.platform_id)), p.platform_id LIMIT ${PLATFORMS_SHOWN}::int`,
  );
  const rows = raw.map((r): PlatformRow => {
    const ceiling = r.concurrency_ceiling ?? input.defaultCeiling;
    return {
      platformId: r.platform_id,
      name: r.name,
      productFamilyCode: r.product_family_code,
      ceiling,
      ownCeiling: r.concurrency_ceiling !== null,
      // A window kept from before a ceiling was raised is still the window until pacing widens it.
      window: Math.max(1, Math.min(r.pacing_window ?? ceiling, ceiling)),
      windowUpdatedAt: toDate(r.pacing_updated_at),
      throttledLastHour: toNumber(r.throttled),
      pausedAt: toDate(r.paused_at),
      links: toNumber(r.links),
    };
  });
  return { rows, total: toNumber(raw[0]?.total) };
}
