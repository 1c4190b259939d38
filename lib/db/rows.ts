/** Raw SQL results, the same from every driver: rows out of drizzle's execute, dates and numbers normalised. */
import type { sql } from "drizzle-orm";
import type { Db } from "./client";

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

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
