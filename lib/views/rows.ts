/** Small helpers shared by the view queries: raw rows out of drizzle's execute, dates from either driver. */
import type { sql } from "drizzle-orm";
import type { Db } from "../db/client";

export async function rowsOf<T>(db: Db, q: ReturnType<typeof sql>): Promise<T[]> {
  return ((await db.execute(q)) as unknown as { rows: T[] }).rows;
}

/** node-postgres gives Date, PGlite may give Date or string, JSON aggregates give strings. */
export function toDate(value: Date | string | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function toNumber(value: number | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "number" ? value : Number(value);
}

export function toNullableNumber(value: number | string | null | undefined): number | null {
  return value === null || value === undefined ? null : toNumber(value);
}

const DAY_MS = 86_400_000;

/** The last `count` UTC days up to `now`'s (YYYY-MM-DD, oldest first) and the instant the first one starts. */
export function lastUtcDays(count: number, now = new Date()): { start: Date; days: string[] } {
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - (count - 1) * DAY_MS;
  return { start: new Date(start), days: Array.from({ length: count }, (_, i) => new Date(start + i * DAY_MS).toISOString().slice(0, 10)) };
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A page number from a query string value: 1 when missing or nonsense. */
export function pageNumber(value: unknown): number {
  const n = typeof value === "string" ? Number.parseInt(value, 10) : NaN;
  return Number.isFinite(n) && n >= 1 && n <= 1_000_000 ? n : 1;
}
