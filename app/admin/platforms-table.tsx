/** Per LMS platform: its ceiling and the pacing window now, throttled answers in the last hour, and pause. */
import { Badge, Time } from "@/app/_lib/format";
import { getDb } from "@/lib/db/client";
import { env } from "@/lib/env";
import { MAX_CEILING } from "@/lib/ltiaas/ceiling";
import { platformRows } from "@/lib/views/platforms";
import { CeilingControl, PauseControl } from "./platform-controls";

export async function PlatformsTable() {
  const { rows, total } = await platformRows(await getDb(), { defaultCeiling: env().platformConcurrency });
  if (!rows.length) return <p className="empty">No platform has launched Gradesync yet.</p>;
  return (
    <>
      <div className="table-wrap">
        <table className="platforms">
          <thead>
            <tr>
              <th scope="col">Platform</th>
              <th scope="col">Sending</th>
              <th scope="col">Window now</th>
              <th scope="col">Ceiling</th>
              <th scope="col">Throttled, last hour</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((p) => (
              <tr key={p.platformId} data-platform={p.platformId} data-paused={p.pausedAt ? "true" : "false"}>
                <th scope="row">
                  {p.name ?? p.platformId}
                  <div className="muted small mono">{p.platformId}{p.productFamilyCode ? ` · ${p.productFamilyCode}` : ""} · {p.links} {p.links === 1 ? "link" : "links"}</div>
                </th>
                <td>
                  {p.pausedAt ? (
                    <>
                      <Badge tone="warn">Paused</Badge> <span className="muted small">since <Time value={p.pausedAt} /></span>
                    </>
                  ) : (
                    <Badge tone="ok">Sending</Badge>
                  )}
                  <PauseControl platformId={p.platformId} paused={p.pausedAt !== null} />
                </td>
                <td data-window={p.window}>
                  {p.window} of {p.ceiling} in flight
                  {p.windowUpdatedAt ? <div className="muted small">as of <Time value={p.windowUpdatedAt} /></div> : null}
                </td>
                <td data-ceiling={p.ceiling}>
                  {p.ceiling} {p.ownCeiling ? <span className="muted small">(set here)</span> : <span className="muted small">(PLATFORM_CONCURRENCY)</span>}
                  <CeilingControl platformId={p.platformId} ceiling={p.ceiling} own={p.ownCeiling} max={MAX_CEILING} />
                </td>
                <td data-throttled={p.throttledLastHour}>
                  {p.throttledLastHour ? <Badge tone="warn">{p.throttledLastHour} throttled</Badge> : <span className="muted">none</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {total > rows.length ? <p className="muted">Only the first {rows.length} of {total} platforms are shown (paused ones first).</p> : null}
    </>
  );
}
