/** Runs with their counts, as an operator reads them; a backfill's dry run is marked as one (it sent nothing). */
import { Badge, Time } from "@/app/_lib/format";
import { getDb } from "@/lib/db/client";
import { recentRuns } from "@/lib/views/admin";
import { runOutcomeWords } from "@/lib/views/reasons";
import type { RunRow } from "@/lib/views/teacher";

/** The latest runs of every kind. */
export async function RecentRuns() {
  return <RunsTable runs={await recentRuns(await getDb(), 10)} empty="No runs yet." />;
}

export function RunsTable({ runs, empty }: { runs: RunRow[]; empty: string }) {
  if (!runs.length) return <p className="empty">{empty}</p>;
  return (
    <div className="table-wrap">
      <table className="runs-table">
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Started</th>
            <th scope="col">Outcome</th>
            <th scope="col">Counts</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => {
            const dry = Boolean(r.counts.dryRun);
            const counts = Object.entries(r.counts).filter(([k]) => k !== "dryRun");
            return (
              <tr key={r.id} data-kind={r.kind} data-dry-run={dry ? "true" : undefined}>
                <td>
                  {r.kind} {dry ? <Badge tone="muted">dry run</Badge> : null} <span className="muted small">({r.trigger})</span>
                </td>
                <td><Time value={r.startedAt} /></td>
                <td><Badge tone={runOutcomeWords(r.outcome).tone}>{r.outcome}</Badge></td>
                <td className="small">{counts.map(([k, v]) => `${k} ${v}`).join(" · ") || "—"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
