/**
 * push-grades: the nightly (and on-demand) push — every context with pending rows (or the ones
 * named), each a push-context unit of this run.
 */
import { z } from "zod";
import { pruneDeliveries } from "../../grades/deliveries";
import { contextsWithPending } from "../../grades/targets";
import { abandonStaleRuns } from "../runs";
import { defineJob, unitEvents } from "../definition";
import { pushContextJob } from "./push-context";

export const contextList = z.object({ contextRefs: z.array(z.uuid()).max(1_000).nullish().transform((v) => v ?? null) });

export const pushGradesJob = defineJob({
  kind: "push-grades",
  id: "push-grades",
  event: "gradesync/push-grades.requested",
  payload: contextList,
  flow: { retries: 4, concurrency: "one-at-a-time", cron: () => "TZ=UTC 0 */6 * * *" },
  shows: { health: true, cron: { path: "grades", method: "GET" }, cli: true },
  contextOf: (p) => (p.contextRefs?.length === 1 ? p.contextRefs[0] : null),
  cliPayload: (args) => ({ contextRefs: args.context ? [args.context.contextRef] : null }),
  async handler({ payload, step, deps, runId }) {
    // A push over every context (the nightly cron; every 6 h under Inngest) also forgets webhook
    // delivery ids past their retention, and ends runs that will never finish on their own.
    if (!payload.contextRefs) {
      await step.run("prune-deliveries", () => pruneDeliveries(deps.db));
      await step.run("abandon-stale-runs", () => abandonStaleRuns(deps.db));
    }
    const targets = await step.run("list-contexts", () => contextsWithPending(deps.db, payload.contextRefs));
    if (targets.length) await step.sendEvent("fan-out", unitEvents(pushContextJob, targets, runId));
    return { contexts: targets.length };
  },
  summary: (r) => ({ details: r }),
});
