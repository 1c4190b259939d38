/** How times and scores read on every page: absolute UTC times in <time>, short and unambiguous. */
const FMT = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "UTC" });

function formatTime(d: Date): string {
  return `${FMT.format(d)} UTC`;
}

export function Time({ value, empty = "—" }: { value: Date | null | undefined; empty?: string }) {
  if (!value) return <span className="muted">{empty}</span>;
  return <time dateTime={value.toISOString()}>{formatTime(value)}</time>;
}

export function formatScore(given: number | null, maximum: number | null): string {
  if (given === null) return "—";
  const g = Number.isInteger(given) ? String(given) : given.toFixed(2);
  return maximum === null ? g : `${g} / ${Number.isInteger(maximum) ? maximum : maximum.toFixed(2)}`;
}

export function Badge({ tone, children }: { tone: string; children: React.ReactNode }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}
