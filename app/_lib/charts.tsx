/** Small charts drawn on the server as SVG: no client code, no layout shift, readable at 320 px. */
import type { DayOutcomes, OutcomeKind } from "@/lib/views/teacher";

const SERIES: { key: OutcomeKind; label: string; color: string }[] = [
  { key: "sent", label: "Sent", color: "var(--ok)" },
  { key: "retry_later", label: "Tried again (LMS busy)", color: "var(--warn)" },
  { key: "skipped", label: "Not taken by your LMS", color: "var(--muted)" },
  { key: "failed", label: "Failed", color: "var(--bad)" },
  { key: "needs_relaunch", label: "Needed a launch", color: "#7c3aed" },
  { key: "missing", label: "Column missing", color: "#be185d" },
];

interface StackedDay {
  day: string;
  values: Record<string, number>;
}

function StackedBars({ days, series, title, summary }: { days: StackedDay[]; series: { key: string; label: string; color: string }[]; title: string; summary: string }) {
  const width = 600;
  const height = 120;
  const gap = 2;
  const bar = width / Math.max(days.length, 1);
  const max = Math.max(1, ...days.map((d) => series.reduce((s, k) => s + (d.values[k.key] ?? 0), 0)));
  const used = series.filter((k) => days.some((d) => (d.values[k.key] ?? 0) > 0));
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={`${title}. ${summary}`}>
        <line x1="0" y1={height - 0.5} x2={width} y2={height - 0.5} stroke="var(--line)" />
        {days.map((d, i) => {
          let y = height;
          return (
            <g key={d.day}>
              <title>{`${d.day}: ${series.map((k) => `${k.label} ${d.values[k.key] ?? 0}`).join(", ")}`}</title>
              {series.map((k) => {
                const v = d.values[k.key] ?? 0;
                if (!v) return null;
                const h = (v / max) * (height - 4);
                y -= h;
                return <rect key={k.key} x={i * bar + gap / 2} y={y} width={Math.max(bar - gap, 1)} height={h} fill={k.color} />;
              })}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <span className="muted">
          {days[0]?.day} – {days.at(-1)?.day} · highest day {max}
        </span>
        {used.length > 0 && (
          <ul className="legend">
            {used.map((k) => (
              <li key={k.key}>
                <span className="swatch" style={{ background: k.color }} aria-hidden="true" />
                {k.label}
              </li>
            ))}
          </ul>
        )}
      </figcaption>
    </figure>
  );
}

export function OutcomeChart({ days }: { days: DayOutcomes[] }) {
  const totals = Object.fromEntries(SERIES.map((k) => [k.key, days.reduce((s, d) => s + d.counts[k.key], 0)]));
  const summary = SERIES.filter((k) => totals[k.key] > 0).map((k) => `${k.label}: ${totals[k.key]}`).join("; ") || "No grades were sent in this period";
  return (
    <>
      <StackedBars days={days.map((d) => ({ day: d.day, values: d.counts }))} series={SERIES} title="Sync outcomes per day, last 30 days" summary={summary} />
      <p className="muted">{summary}.</p>
    </>
  );
}

export function ThroughputChart({ days }: { days: { day: string; sent: number; skipped: number; failed: number }[] }) {
  const series = [
    { key: "sent", label: "Sent", color: "var(--ok)" },
    { key: "skipped", label: "Skipped", color: "var(--muted)" },
    { key: "failed", label: "Failed", color: "var(--bad)" },
  ];
  const sent = days.reduce((s, d) => s + d.sent, 0);
  const failed = days.reduce((s, d) => s + d.failed, 0);
  return (
    <StackedBars
      days={days.map((d) => ({ day: d.day, values: { sent: d.sent, skipped: d.skipped, failed: d.failed } }))}
      series={series}
      title="Scores per day"
      summary={`${sent} sent and ${failed} failed in ${days.length} days`}
    />
  );
}
