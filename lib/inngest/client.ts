/**
 * The Inngest client (keys come from INNGEST_EVENT_KEY / INNGEST_SIGNING_KEY / INNGEST_DEV, read by
 * the SDK) and the few sends the app makes: a context changed (debounced push), a job requested.
 */
import { sql } from "drizzle-orm";
import { Inngest } from "inngest";
import { getDb } from "../db/client";
import { rowsOf } from "../db/rows";
import { EVENTS } from "../jobs/events";

export const inngest = new Inngest({ id: "gradesync" });

/** Scores were recorded for this context: the debounced push function picks it up. */
export async function sendContextChanged(contextRef: string): Promise<void> {
  const db = await getDb();
  const rows = await rowsOf<{ platform_id: string }>(db, sql`SELECT p.platform_id FROM contexts c JOIN platforms p ON p.id = c.platform_ref
    WHERE c.id = ${contextRef}::uuid`);
  if (!rows[0]) return;
  await inngest.send({ name: EVENTS.contextChanged, data: { contextRef, platformId: rows[0].platform_id } });
}

/** Sends one event with a dedupe id; returns that id. */
export async function sendJobEvent(name: string, data: Record<string, unknown>, id: string): Promise<string> {
  await inngest.send({ name, data, id });
  return id;
}
