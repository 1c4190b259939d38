/**
 * backfill: a selector re-sends the current scores it picks as new revisions; a list of scores is
 * recorded as corrections (new revisions whatever their gradedAt). Either way the touched contexts
 * are then pushed. `dryRun` counts and lists, sending nothing. The event id is a hash of the
 * normalised request, so the same backfill twice in a day runs once and two different ones both run.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { Db } from "../db/client";
import { previewBackfill, reviseSelected, LIST_LIMIT, type BackfillListing } from "../grades/backfill";
import { scoreEntrySchema } from "../grades/entry";
import { findUnknownTriples, recordScores, UnknownTripleError } from "../grades/record";
import { boundedDate, ltiId } from "../validation";
import type { StepRunner } from "./runner";
import { contextsWithPending, pushContextEvents } from "./targets";

const id = ltiId();

export const backfillSelectorSchema = z.strictObject({
  platformId: id,
  contextId: id.optional(),
  resourceLinkId: id.optional(),
  since: boundedDate().optional(),
  dryRun: z.boolean().optional(),
});

export const backfillScoresSchema = z.strictObject({
  scores: z.array(scoreEntrySchema).min(1).max(100_000),
  dryRun: z.boolean().optional(),
});

export const backfillRequestSchema = z.union([backfillScoresSchema, backfillSelectorSchema]);
export type BackfillRequest = z.infer<typeof backfillRequestSchema>;

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, canonical(v)]),
    );
  return value;
}

/** Event id: a hash of the normalised (parsed, defaults applied, keys sorted) request. */
export function backfillEventId(request: BackfillRequest): string {
  const normal = "scores" in request ? { ...request, dryRun: request.dryRun ?? false } : { ...request, dryRun: request.dryRun ?? false };
  return `backfill-${createHash("sha256").update(JSON.stringify(canonical(normal))).digest("hex").slice(0, 40)}`;
}

export interface BackfillOutcome {
  dryRun: boolean;
  /** Rows made new revisions (selector) or scores recorded (corrections). */
  revised: number;
  wouldSend?: number;
  rows?: BackfillListing[];
  contexts: number;
  /** The contexts whose rows it made pending: a run's `pending` count covers these only. */
  contextRefs: string[];
}

export async function backfillHandler(
  runner: StepRunner,
  input: { runId: string | null; request: BackfillRequest },
  db: Db,
): Promise<BackfillOutcome> {
  const req = input.request;
  if ("scores" in req) {
    if (req.dryRun) {
      const unknown = await runner.run("check", () => findUnknownTriples(db, req.scores));
      if (unknown.length) throw new UnknownTripleError(unknown);
      const rows = req.scores.slice(0, LIST_LIMIT).map((s) => ({
        platformId: s.platformId, contextId: s.contextId, resourceLinkId: s.resourceLinkId, userId: s.userId,
        scoreGiven: s.scoreGiven ?? null, scoreMaximum: s.scoreMaximum ?? null, state: "correction",
      }));
      return { dryRun: true, revised: 0, wouldSend: req.scores.length, rows, contexts: 0, contextRefs: [] };
    }
    const recorded = await runner.run("record", async () => {
      const r = await recordScores(req.scores, { source: "backfill", correction: true, db, schedule: false });
      return r.duplicate ? { applied: 0, contextRefs: [] as string[] } : { applied: r.applied, contextRefs: r.contextRefs };
    });
    const contexts = await fanOut(runner, db, recorded.contextRefs, input.runId);
    return { dryRun: false, revised: recorded.applied, contexts, contextRefs: recorded.contextRefs };
  }
  const selector = { platformId: req.platformId, contextId: req.contextId, resourceLinkId: req.resourceLinkId, since: req.since };
  if (req.dryRun) {
    const preview = await runner.run("preview", () => previewBackfill(db, selector));
    return { dryRun: true, revised: 0, wouldSend: preview.wouldSend, rows: preview.rows, contexts: 0, contextRefs: [] };
  }
  const revised = await runner.run("revise", () => reviseSelected(db, selector));
  const contexts = await fanOut(runner, db, revised.contextRefs, input.runId);
  return { dryRun: false, revised: revised.revised, contexts, contextRefs: revised.contextRefs };
}

async function fanOut(runner: StepRunner, db: Db, contextRefs: string[], runId: string | null): Promise<number> {
  if (!contextRefs.length) return 0;
  const targets = await runner.run("list-contexts", () => contextsWithPending(db, contextRefs));
  if (targets.length) await runner.sendEvent("fan-out", pushContextEvents(targets, runId));
  return targets.length;
}
