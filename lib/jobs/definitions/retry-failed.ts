/** retry-failed: rows that failed after their bounded attempts go back to pending, then their contexts are pushed. */
import { contextsWithPending } from "../../grades/targets";
import { resetFailed } from "../../grades/reset-failed";
import { defineJob, unitEvents } from "../definition";
import { pushContextJob } from "./push-context";
import { contextList } from "./push-grades";

export const retryFailedJob = defineJob({
  kind: "retry-failed",
  id: "retry-failed",
  event: "gradesync/retry-failed.requested",
  payload: contextList,
  flow: { retries: 4, concurrency: "one-at-a-time" },
  shows: { health: true, cli: true },
  contextOf: (p) => (p.contextRefs?.length === 1 ? p.contextRefs[0] : null),
  cliPayload: (args) => ({ contextRefs: args.context ? [args.context.contextRef] : null }),
  async handler({ payload, step, deps, runId }) {
    const { reset, contextRefs } = await step.run("reset-failed", () => resetFailed(deps.db, payload.contextRefs));
    if (!contextRefs.length) return { reset, contexts: 0 };
    const targets = await step.run("list-contexts", () => contextsWithPending(deps.db, contextRefs));
    if (targets.length) await step.sendEvent("fan-out", unitEvents(pushContextJob, targets, runId));
    return { reset, contexts: targets.length };
  },
  finish: async (_ctx, r) => ({ reset: r.reset }),
  summary: (r) => ({ details: r }),
});
