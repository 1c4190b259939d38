/**
 * The alerts table: what has been raised and told. Several processes may evaluate at once (every run
 * end, every cron call, under Inngest in any process), so a message is sent only by whoever takes
 * its lease, and it counts as told only once delivered. At most one raise message per condition and
 * subject per (UTC) day; one cleared message per episode that was told.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";
import { ALERT_CONDITIONS, type AlertCondition, type AlertDetail, type AlertTarget, type Condition } from "./conditions";

/** How long a sender holds a message before another process may try it (a crash lets it lapse). */
const LEASE_MS = 60_000;

export const dayOf = (now: Date) => now.toISOString().slice(0, 10);

const keysJson = (cs: Pick<Condition, "condition" | "subject">[]) => JSON.stringify(cs.map((c) => ({ condition: c.condition, subject: c.subject })));

/**
 * Records what holds now: each condition raised (a new episode if it had cleared), every raised
 * one not among them over — `clearing` when it was told, else `cleared` with nothing to say.
 */
export async function recordConditions(db: Db, conditions: Condition[], now: Date): Promise<void> {
  const at = now.toISOString();
  if (conditions.length)
    await db.execute(sql`INSERT INTO alerts AS a (condition, subject, state, target, detail, raised_at, updated_at)
      SELECT x.condition, x.subject, 'raised', x.target, x.detail, ${at}::timestamptz, ${at}::timestamptz
      FROM jsonb_to_recordset(${JSON.stringify(conditions)}::jsonb) AS x(condition text, subject text, target jsonb, detail jsonb)
      ON CONFLICT (condition, subject) DO UPDATE SET
        target = excluded.target, detail = excluded.detail, updated_at = excluded.updated_at,
        raised_at = CASE WHEN a.state = 'cleared' THEN excluded.raised_at ELSE a.raised_at END,
        episode_notified = CASE WHEN a.state = 'cleared' THEN false ELSE a.episode_notified END,
        cleared_at = NULL, state = 'raised'
      WHERE a.state <> 'raised' OR a.target IS DISTINCT FROM excluded.target OR a.detail IS DISTINCT FROM excluded.detail`);
  await db.execute(sql`UPDATE alerts a SET state = CASE WHEN a.episode_notified THEN 'clearing' ELSE 'cleared' END,
      cleared_at = ${at}::timestamptz, updated_at = ${at}::timestamptz
    WHERE a.state = 'raised' AND NOT EXISTS (
      SELECT 1 FROM jsonb_to_recordset(${keysJson(conditions)}::jsonb) AS x(condition text, subject text)
      WHERE x.condition = a.condition AND x.subject = a.subject)`);
}

export interface DueAlert {
  condition: AlertCondition;
  subject: string;
  cleared: boolean;
  target: AlertTarget;
  detail: AlertDetail;
}

const DUE = (day: string, at: string) => sql`((state = 'raised' AND notified_on IS DISTINCT FROM ${day}::date) OR state = 'clearing')
  AND (sending_until IS NULL OR sending_until < ${at}::timestamptz)`;

const parse = <T>(v: T | string): T => (typeof v === "string" ? (JSON.parse(v) as T) : v);

/** Messages owed now, most urgent condition first, at most `limit`. */
export async function dueAlerts(db: Db, now: Date, limit: number): Promise<Pick<DueAlert, "condition" | "subject">[]> {
  return rowsOf<Pick<DueAlert, "condition" | "subject">>(
    db,
    sql`SELECT condition, subject FROM alerts WHERE state <> 'cleared' AND ${DUE(dayOf(now), now.toISOString())}
        ORDER BY array_position(string_to_array(${ALERT_CONDITIONS.join(",")}::text, ','), condition), raised_at, subject
        LIMIT ${limit}::int`,
  );
}

/** Takes the lease of one owed message; undefined when another process took it or it is no longer owed. */
export async function claimAlert(db: Db, key: Pick<DueAlert, "condition" | "subject">, now: Date): Promise<DueAlert | undefined> {
  const at = now.toISOString();
  const [r] = await rowsOf<{ state: string; target: AlertTarget | string; detail: AlertDetail | string }>(
    db,
    sql`UPDATE alerts SET sending_until = ${at}::timestamptz + make_interval(secs => ${LEASE_MS / 1000}::int)
        WHERE condition = ${key.condition}::text AND subject = ${key.subject}::text AND ${DUE(dayOf(now), at)}
        RETURNING state, target, detail`,
  );
  if (!r) return undefined;
  return { ...key, cleared: r.state === "clearing", target: parse(r.target), detail: parse(r.detail) };
}

/**
 * The message was delivered. A raise told today (and its episode, so its end is told too, even if
 * it ended meanwhile); a cleared message ends the episode's telling.
 */
export async function alertDelivered(db: Db, a: DueAlert, now: Date): Promise<void> {
  if (a.cleared)
    await db.execute(sql`UPDATE alerts SET state = CASE WHEN state = 'clearing' THEN 'cleared' ELSE state END,
        episode_notified = false, sending_until = NULL
      WHERE condition = ${a.condition}::text AND subject = ${a.subject}::text`);
  else
    await db.execute(sql`UPDATE alerts SET notified_on = ${dayOf(now)}::date, episode_notified = true, sending_until = NULL,
        state = CASE WHEN state = 'cleared' THEN 'clearing' ELSE state END
      WHERE condition = ${a.condition}::text AND subject = ${a.subject}::text`);
}

/** Not delivered: the message stays owed (the next evaluation tries again). */
export async function alertNotDelivered(db: Db, a: Pick<DueAlert, "condition" | "subject">): Promise<void> {
  await db.execute(sql`UPDATE alerts SET sending_until = NULL WHERE condition = ${a.condition}::text AND subject = ${a.subject}::text`);
}

/** Conditions raised now (for /admin). */
export async function openAlertCount(db: Db): Promise<number> {
  const [r] = await rowsOf<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM alerts WHERE state = 'raised'`);
  return Number(r?.n ?? 0);
}
