/**
 * One job's execution, the same under both engines: parse the payload, start the run (or join the
 * run it is a unit of), run the handler, and in a last step add its counts and mark its unit done —
 * which settles the run when it was the last. A job that gives up is recorded by `jobGaveUp`.
 */
import { runKindOf, type JobDefinition, type JobEvent, type StepRunner, type Trigger } from "./definition";
import type { JobDeps } from "./deps";
import { describeError } from "../log";
import { ownRunId, runEnded, runFailed, SELF, startRun, unitDone } from "./runs";

export class InvalidPayload extends Error {
  constructor(readonly kind: string) {
    super(`invalid ${kind} payload`);
    this.name = "InvalidPayload";
  }
}

export interface Execution {
  step: StepRunner;
  deps: JobDeps;
  trigger: Trigger;
  /** Under Inngest: the run's id is derived from the engine's (see startRun). */
  engineRunId?: string;
  /** Called with the run's id as soon as it is known (the inline engine's failure path needs it). */
  onRun?: (runId: string) => void;
}

export function parsePayload(def: JobDefinition, data: unknown): Record<string, unknown> {
  const parsed = def.payload.safeParse(data ?? {});
  if (!parsed.success) throw new InvalidPayload(def.kind);
  return parsed.data as Record<string, unknown>;
}

const unitOf = (def: JobDefinition, payload: Record<string, unknown>) => (def.unitOf ? String(payload.contextRef) : SELF);

export async function executeJob(def: JobDefinition, data: unknown, x: Execution): Promise<{ runId: string; result: object }> {
  const payload = parsePayload(def, data);
  const { db } = x.deps;
  const unit = unitOf(def, payload);
  const partOf = def.unitOf ? (payload.runId as string | null) : null;
  const runId =
    partOf ??
    (await x.step.run("start-run", () =>
      startRun(db, {
        kind: runKindOf(def),
        trigger: x.trigger,
        contextRef: def.unitOf ? unit : (def.contextOf?.(payload) ?? null),
        engineRunId: x.engineRunId,
        unit,
      }),
    ));
  x.onRun?.(runId);
  const ctx = { payload, step: x.step, deps: x.deps, runId };
  const result = await def.handler(ctx);
  const ended = await x.step.run("finish", async () => unitDone(db, runId, unit, (await def.finish?.(ctx, result)) ?? {}));
  if (ended) await runEnded(x.deps, x.step);
  return { runId, result };
}

/**
 * A job gave up (Inngest's onFailure after its retries; inline, its body threw). A unit still counts
 * as done, given up, so its run settles as partial instead of reading `running` for ever; a run's
 * own body failing fails the run. Only the error's name (or database condition) is kept. Returns
 * whether a run was found.
 */
export async function jobGaveUp(
  def: JobDefinition,
  data: unknown,
  deps: JobDeps,
  at: { runId?: string; engineRunId?: string; error: unknown },
): Promise<boolean> {
  const parsed = def.payload.safeParse(data ?? {});
  if (!parsed.success) return false;
  const payload = parsed.data as Record<string, unknown>;
  const runId = (def.unitOf ? (payload.runId as string | null) : null) ?? at.runId ?? (at.engineRunId ? ownRunId(at.engineRunId) : null);
  if (!runId) return false;
  // Named by describeError: a database refusal by its SQLSTATE, anything else by its name.
  const name = describeError(at.error);
  if (!def.unitOf) {
    if (await runFailed(deps.db, runId, name)) await runEnded(deps);
    return true;
  }
  const counts = (await def.gaveUpCounts?.({ payload, deps, runId })) ?? {};
  if (await unitDone(deps.db, runId, unitOf(def, payload), counts, name)) await runEnded(deps);
  return true;
}

/** Fan-out helper for engines: which contexts a batch of unit events registers under which run. */
export function unitsByRun(events: JobEvent[]): Map<string, string[]> {
  const byRun = new Map<string, string[]>();
  for (const e of events) {
    if (!e.data.runId) continue;
    const list = byRun.get(e.data.runId) ?? [];
    list.push(e.data.contextRef);
    byRun.set(e.data.runId, list);
  }
  return byRun;
}
