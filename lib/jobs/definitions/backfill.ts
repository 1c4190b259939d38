/**
 * backfill: a selector re-sends the current scores it picks as new revisions; a list of scores is
 * recorded as corrections (new revisions whatever their gradedAt). Either way the touched contexts
 * are then pushed. `dryRun` counts and lists, sending nothing. The event id is a hash of the
 * normalised request, so the same backfill twice in a day runs once and two different ones both run.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { overriddenCorrections, previewBackfill, reviseSelected, LIST_LIMIT, type BackfillListing } from "../../grades/backfill";
import { scoreEntrySchema } from "../../grades/entry";
import { findUnknownTriples, recordScores, UnknownTripleError } from "../../grades/record";
import { readLink } from "../../grades/readback";
import { contextsWithPending } from "../../grades/targets";
import { boundedDate, ltiId } from "../../validation";
import { defineJob, unitEvents, type JobContext } from "../definition";
import { pushContextJob } from "./push-context";

const id = ltiId();

export const backfillSelectorSchema = z.strictObject({
  platformId: id,
  contextId: id.optional(),
  resourceLinkId: id.optional(),
  since: boundedDate().optional(),
  dryRun: z.boolean().optional(),
  /** Also send over grades a person set in the LMS (without it, a backfill never replaces one). */
  overwrite: z.boolean().optional(),
});

export const backfillScoresSchema = z.strictObject({
  scores: z.array(scoreEntrySchema).min(1).max(100_000),
  dryRun: z.boolean().optional(),
  overwrite: z.boolean().optional(),
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
  const normal = { ...request, dryRun: request.dryRun ?? false, overwrite: request.overwrite ?? false };
  return `backfill-${createHash("sha256").update(JSON.stringify(canonical(normal))).digest("hex").slice(0, 40)}`;
}

export interface BackfillOutcome {
  dryRun: boolean;
  /** Rows made new revisions (selector) or scores recorded (corrections). */
  revised: number;
  wouldSend?: number;
  /** Dry run: selected rows whose LMS grade a person set (not sent unless `overwrite`). */
  overridden?: number;
  rows?: BackfillListing[];
  contexts: number;
}

type Ctx = JobContext<BackfillRequest>;

async function backfill({ payload: req, step, deps, runId }: Ctx): Promise<BackfillOutcome> {
  const { db } = deps;
  if ("scores" in req) {
    if (req.dryRun) {
      const unknown = await step.run("check", () => findUnknownTriples(db, req.scores));
      if (unknown.length) throw new UnknownTripleError(unknown);
      // Corrections for rows whose LMS grade a person set are kept waiting, unless overwriting.
      const held = new Set(await step.run("overridden", async () => [...(await overriddenCorrections(db, req.scores, linkReader(deps)))]));
      const rows = req.scores.slice(0, LIST_LIMIT).map((s, i) => ({
        platformId: s.platformId, contextId: s.contextId, resourceLinkId: s.resourceLinkId, userId: s.userId,
        scoreGiven: s.scoreGiven ?? null, scoreMaximum: s.scoreMaximum ?? null, state: held.has(i) ? "overridden" : "correction",
      }));
      const wouldSend = req.scores.length - (req.overwrite ? 0 : held.size);
      return { dryRun: true, revised: 0, wouldSend, overridden: held.size, rows, contexts: 0 };
    }
    const recorded = await step.run("record", async () => {
      const overwrite = req.overwrite ?? false;
      const r = await recordScores(req.scores, { source: overwrite ? "overwrite" : "backfill", correction: true, overwrite, db });
      return r.duplicate ? { applied: 0, contextRefs: [] as string[] } : { applied: r.applied, contextRefs: r.changed.map((c) => c.contextRef) };
    });
    const contexts = await fanOut({ step, deps, runId }, recorded.contextRefs);
    return { dryRun: false, revised: recorded.applied, contexts };
  }
  const selector = { platformId: req.platformId, contextId: req.contextId, resourceLinkId: req.resourceLinkId, since: req.since, overwrite: req.overwrite };
  if (req.dryRun) {
    // What the LMS holds now decides what would be overwritten: the selected line items are read.
    const preview = await step.run("preview", () => previewBackfill(db, selector, linkReader(deps)));
    return { dryRun: true, revised: 0, wouldSend: preview.wouldSend, overridden: preview.overridden, rows: preview.rows, contexts: 0 };
  }
  const revised = await step.run("revise", () => reviseSelected(db, selector));
  const contexts = await fanOut({ step, deps, runId }, revised.contextRefs);
  return { dryRun: false, revised: revised.revised, contexts };
}

/** A preview reads a link's line item now; one that cannot be read counts as what the ledger knows. */
function linkReader(deps: Ctx["deps"]) {
  const reader = { db: deps.db, client: deps.ltiaas, gate: deps.gate, maxHoldWaitMs: deps.push.maxWaitMs, runId: null };
  return (linkRef: string) => readLink(reader, linkRef).catch(() => null);
}

/** The touched contexts are pushed as units of this run. */
async function fanOut({ step, deps, runId }: Pick<Ctx, "step" | "deps" | "runId">, contextRefs: string[]): Promise<number> {
  if (!contextRefs.length) return 0;
  const targets = await step.run("list-contexts", () => contextsWithPending(deps.db, contextRefs));
  if (targets.length) await step.sendEvent("fan-out", unitEvents(pushContextJob, targets, runId));
  return targets.length;
}

export const backfillJob = defineJob({
  kind: "backfill",
  id: "backfill",
  event: "gradesync/backfill.requested",
  payload: backfillRequestSchema,
  flow: { retries: 2, concurrency: "none" },
  shows: { health: true, cron: { path: "backfill", method: "POST" }, cli: true },
  handler: backfill,
  async precheck(req, deps) {
    if (!("scores" in req)) return;
    const unknown = await findUnknownTriples(deps.db, req.scores);
    if (unknown.length) throw new UnknownTripleError(unknown);
  },
  runsHere: (req) => Boolean(req.dryRun),
  cliPayload(args) {
    const dry = { ...(args.dryRun ? { dryRun: true } : {}), ...(args.overwrite ? { overwrite: true } : {}) };
    if (args.scores) return { scores: args.scores, ...dry } as BackfillRequest;
    if (args.context) {
      const { platformId, contextId, resourceLinkId } = args.context;
      return { platformId, contextId, resourceLinkId, ...(args.since ? { since: args.since } : {}), ...dry };
    }
    throw new Error("backfill needs --context ID (re-send its current scores) or --file scores.csv|json (corrections)");
  },
  // A dry run is marked in its run's counts, so the runs list can tell it from a backfill that sent.
  finish: async (_ctx, r) => ({ revised: r.revised, ...(r.dryRun ? { dryRun: 1 } : {}) }),
  // The README's dry run answers `overridden` at the top level of its JSON.
  summary: (r) => ({ backfill: r, ...(r.dryRun ? { overridden: r.overridden ?? 0 } : {}) }),
});
