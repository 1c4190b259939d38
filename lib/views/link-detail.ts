/**
 * /admin/links/<id>: what the operator sees beyond the teacher's page for one link — the latest
 * requests sent to the LMS for it, each with the LMS's answer (status, error code, latency) and the
 * run that sent it. Bounded by the link (an index on grade rows by link, attempts by row).
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf, toDate, toNumber } from "../db/rows";

export interface LinkAttempt {
  id: number;
  at: Date;
  userId: string;
  name: string | null;
  revision: number;
  outcome: string;
  httpStatus: number | null;
  errorCode: string | null;
  latencyMs: number | null;
  runId: string | null;
  runKind: string | null;
}

export const LINK_ATTEMPTS_SHOWN = 50;

/** The link's latest attempts, newest first. */
export async function linkAttempts(db: Db, resourceLinkRef: string, limit = LINK_ATTEMPTS_SHOWN): Promise<LinkAttempt[]> {
  const raw = await rowsOf<{
    id: number | string; at: Date | string; user_id: string; name: string | null; revision: number; outcome: string; http_status: number | null;
    error_code: string | null; latency_ms: number | null; run_id: string | null; run_kind: string | null;
  }>(
    db,
    sql`SELECT a.id, a.at, g.user_id, u.name, a.revision, a.outcome, a.http_status, a.error_code, a.latency_ms, a.run_id, r.kind AS run_kind
        FROM grade_rows g
        CROSS JOIN LATERAL (SELECT * FROM sync_attempts x WHERE x.grade_row_id = g.id ORDER BY x.id DESC LIMIT ${limit}::int) a
        LEFT JOIN users u ON u.platform_ref = g.platform_ref AND u.user_id = g.user_id
        LEFT JOIN sync_runs r ON r.id = a.run_id
        WHERE g.resource_link_ref = ${resourceLinkRef}::uuid
        ORDER BY a.id DESC LIMIT ${limit}::int`,
  );
  return raw.map((a) => ({
    id: toNumber(a.id),
    at: toDate(a.at)!,
    userId: a.user_id,
    name: a.name,
    revision: a.revision,
    outcome: a.outcome,
    httpStatus: a.http_status,
    errorCode: a.error_code,
    latencyMs: a.latency_ms,
    runId: a.run_id,
    runKind: a.run_kind,
  }));
}
