/** Small helpers of the page queries: day windows and page numbers. */
const DAY_MS = 86_400_000;

/** The last `count` UTC days up to `now`'s (YYYY-MM-DD, oldest first) and the instant the first one starts. */
export function lastUtcDays(count: number, now = new Date()): { start: Date; days: string[] } {
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - (count - 1) * DAY_MS;
  return { start: new Date(start), days: Array.from({ length: count }, (_, i) => new Date(start + i * DAY_MS).toISOString().slice(0, 10)) };
}

/** A page number from a query string value: 1 when missing or nonsense. */
export function pageNumber(value: unknown): number {
  const n = typeof value === "string" ? Number.parseInt(value, 10) : NaN;
  return Number.isFinite(n) && n >= 1 && n <= 1_000_000 ? n : 1;
}
