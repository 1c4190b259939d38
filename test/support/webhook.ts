/** The grading service's webhook as tests send it: an entry for a seeded triple, and a signed POST. */
import { sql } from "drizzle-orm";
import { POST } from "@/app/api/webhooks/grades/route";
import type { Db } from "@/lib/db/client";
import { rowsOf } from "@/lib/db/rows";
import { signatureHeader } from "@/lib/grades/signature";
import { TEST_KEYS } from "./env";
import type { Seeded } from "./seed";

/** One score for learner-1 of the seeded link (8 / 10), with any field replaced. */
export const webhookEntry = (s: Seeded, over: Record<string, unknown> = {}) => ({
  platformId: s.platformId,
  contextId: s.contextId,
  resourceLinkId: s.resourceLinkId,
  userId: "learner-1",
  scoreGiven: 8,
  scoreMaximum: 10,
  ...over,
});

/** POSTs a delivery signed with the test secret (or another, a given time, a given header, or none: null). */
export function postWebhook(body: unknown, opts: { secret?: string; t?: number; header?: string | null; raw?: string } = {}) {
  const raw = opts.raw ?? JSON.stringify(body);
  const headers: Record<string, string> = { "content-type": "application/json" };
  const header = opts.header === undefined ? signatureHeader(opts.secret ?? TEST_KEYS.webhook, raw, opts.t) : opts.header;
  if (header !== null) headers["x-grader-signature"] = header;
  return POST(new Request("http://localhost/api/webhooks/grades", { method: "POST", headers, body: raw }));
}

/** Rows in a table (a name from the test itself, never input). */
export async function countRows(db: Db, table: string): Promise<number> {
  const [r] = await rowsOf<{ n: number }>(db, sql.raw(`SELECT count(*)::int AS n FROM ${table}`));
  return Number(r.n);
}
