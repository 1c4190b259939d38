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

/** A grade a person set in the LMS, as the LMS holds it (null: they cleared it). */
export function lmsGrade(r: { lmsScore: number | null; lmsMaximum: number | null }): string {
  return r.lmsScore === null ? "no grade (cleared)" : formatScore(r.lmsScore, r.lmsMaximum);
}

/** Gradesync's score on the gradebook column's scale when that differs (5 / 5 → "100 / 100 (5 / 5)"), to compare like with like. */
export function onColumnScale(r: { scoreGiven: number | null; scoreMaximum: number | null; lmsMaximum: number | null }): string {
  const own = formatScore(r.scoreGiven, r.scoreMaximum);
  if (r.scoreGiven === null || !r.scoreMaximum || !r.lmsMaximum || r.lmsMaximum === r.scoreMaximum) return own;
  return `${formatScore((r.scoreGiven / r.scoreMaximum) * r.lmsMaximum, r.lmsMaximum)} (${own})`;
}

export function Badge({ tone, children }: { tone: string; children: React.ReactNode }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}
