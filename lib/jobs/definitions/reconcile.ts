/**
 * reconcile: read back every line item Gradesync sent scores to, and compare (lib/grades/reconcile).
 * One reconcile-context unit per context with sent rows; weekly (vercel.json, and an Inngest cron).
 */
import { sql } from "drizzle-orm";
import { rowsOf } from "../../db/rows";
import { reconcileLink, type ReconcileCounts } from "../../grades/reconcile";
import { defineJob, unitEvents, unitPayload } from "../definition";
import { pushContextJob, pushDepsOf } from "./push-context";
import { contextList } from "./push-grades";

/** Contexts with rows Gradesync sent (the counters: sent or overridden rows), or the ones named. */
async function contextsWithSent(db: Parameters<typeof rowsOf>[0], only: string[] | null) {
  const filter = only ? sql`AND gc.context_ref IN (SELECT (jsonb_array_elements_text(${JSON.stringify(only)}::jsonb))::uuid)` : sql``;
  return rowsOf<{ contextRef: string; platformId: string }>(
    db,
    sql`SELECT DISTINCT gc.context_ref AS "contextRef", p.platform_id AS "platformId"
        FROM grade_counters gc JOIN contexts c ON c.id = gc.context_ref JOIN platforms p ON p.id = c.platform_ref
        WHERE gc.sent + gc.overridden > 0 ${filter} ORDER BY 2, 1`,
  );
}

const ZERO: ReconcileCounts = { inSync: 0, differs: 0, missing: 0, clipped: 0, resent: 0 };

export const reconcileContextJob = defineJob({
  kind: "reconcile-context",
  id: "reconcile-context",
  event: "gradesync/reconcile-context.requested",
  payload: unitPayload,
  unitOf: "reconcile",
  flow: { retries: 4, concurrency: "per-platform-and-context", inlineFanOut: 16 },
  shows: {},
  async handler(ctx) {
    const { payload, step, deps, runId } = ctx;
    const push = pushDepsOf(deps, runId);
    const links = await step.run("list-links", () =>
      rowsOf<{ id: string }>(
        deps.db,
        sql`SELECT resource_link_ref AS id FROM grade_counters WHERE context_ref = ${payload.contextRef}::uuid AND sent + overridden > 0 ORDER BY 1`,
      ),
    );
    const counts = { ...ZERO, unread: 0 };
    for (const { id } of links) {
      const r = await step.run(`reconcile:${id}`, () => reconcileLink(push, id));
      if (!r) counts.unread++;
      else for (const k of Object.keys(ZERO) as (keyof ReconcileCounts)[]) counts[k] += r[k];
    }
    // A row the LMS lost is sent again now, once, in this run.
    const pushed = counts.resent > 0 ? await pushContextJob.handler(ctx) : null;
    return { counts, pushed };
  },
  finish: async (_ctx, r) => ({
    ...r.counts,
    ...(r.pushed ? { sent: r.pushed.sent, skipped: r.pushed.skipped, failed: r.pushed.failed, overridden: r.pushed.overridden } : {}),
  }),
});

export const reconcileJob = defineJob({
  kind: "reconcile",
  id: "reconcile",
  event: "gradesync/reconcile.requested",
  payload: contextList,
  flow: { retries: 4, concurrency: "one-at-a-time", cron: () => "TZ=UTC 30 4 * * 0" },
  shows: { health: true, cron: { path: "reconcile", method: "GET" }, cli: true },
  contextOf: (p) => (p.contextRefs?.length === 1 ? p.contextRefs[0] : null),
  cliPayload: (args) => ({ contextRefs: args.context ? [args.context.contextRef] : null }),
  async handler({ payload, step, deps, runId }) {
    const targets = await step.run("list-contexts", () => contextsWithSent(deps.db, payload.contextRefs));
    if (targets.length) await step.sendEvent("fan-out", unitEvents(reconcileContextJob, targets, runId));
    return { contexts: targets.length };
  },
  summary: (r) => ({ details: r }),
});

