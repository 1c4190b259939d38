/**
 * One context's refresh: pick the newest active Names-and-Roles key, fetch every page, then swap
 * the roster in. A 401 marks that key `needs_relaunch` (as a push does) and the next key of the
 * context is tried, as after LTIAAS says a key has no Names and Roles (the context is then skipped,
 * not failed); a refresh that cannot finish changes nothing in the roster.
 */
import type { Db } from "../db/client";
import { open, SealError } from "../crypto/seal";
import type { PlatformGate } from "../ltiaas/gate";
import { loadPacing, savePacing } from "../ltiaas/pacing-store";
import { LtiaasError } from "../ltiaas";
import { errorFields, log } from "../log";
import { applyRoster } from "./apply";
import type { RosterClient } from "./client";
import { fetchRoster, RosterRetryLater } from "./fetch";
import { markKeyNeedsRelaunch } from "../service-keys";
import { noKeyReason, rosterKeys, rosterTarget, type SkipReason } from "./targets";
import type { RosterTuning } from "./tuning";

export interface RosterDeps {
  db: Db;
  client: RosterClient;
  gate: PlatformGate;
  tuning: RosterTuning;
  maxAgeHours: number;
  /** The pacing window is shared through the database (Inngest); inline the gate is the pacer. */
  sharedPacing: boolean;
}

export type ContextOutcome =
  | {
      contextRef: string;
      outcome: "refreshed";
      members: number;
      activeLearners: number;
      inactivated: number;
      /** Members left out: their id cannot be stored (see storableMembers). */
      dropped?: number;
      pages: number;
      retried: number;
      statements: number;
    }
  | { contextRef: string; outcome: "skipped"; reason: SkipReason }
  | {
      contextRef: string;
      outcome: "failed";
      /** needs_relaunch (every key answered 401), retry_later, the LTIAAS error kind, or error. */
      reason: string;
      /** For an unexpected error: what it was (see describeError), for the run's error. */
      detail?: string;
      retried: number;
      /** Under Inngest the step is retried after this long (the platform's Retry-After). */
      retryAfterMs?: number;
    };

/** Refreshes one context now (`force`), or only if its roster is stale. Never throws for an LTIAAS answer. */
export async function refreshContext(deps: RosterDeps, contextRef: string, opts: { force?: boolean } = {}): Promise<ContextOutcome> {
  const { db } = deps;
  const target = await rosterTarget(db, contextRef, deps.maxAgeHours);
  if (!target) return { contextRef, outcome: "skipped", reason: "not_found" };
  // A debounced refresh or another run may have refreshed it since it was listed.
  if (!opts.force && !target.stale) return { contextRef, outcome: "skipped", reason: "fresh" };
  const keys = await rosterKeys(db, contextRef);
  // Listed as due, but a push's 401 (or a launch without Names and Roles) may have changed that since.
  if (keys.length === 0) return { contextRef, outcome: "skipped", reason: await noKeyReason(db, contextRef) };

  let retried = 0;
  let lastReason = "needs_relaunch";
  for (const key of keys) {
    let serviceKey: string;
    try {
      serviceKey = await open(key.sealed, { platformId: target.platformId, contextId: target.contextId, resourceLinkId: key.resourceLinkId });
    } catch (error) {
      // A key sealed under a retired encryption key: another link's key may still open.
      if (!(error instanceof SealError)) throw error;
      log.warn("roster.unsealable_key", { contextRef, resourceLink: key.linkRef });
      lastReason = "unsealable_key";
      continue;
    }
    const fetchStartedAt = new Date();
    try {
      await loadPacing(db, deps.gate, target.platformId, deps.sharedPacing);
      const fetched = await fetchRoster(deps, target.platformId, serviceKey).finally(() => savePacing(db, deps.gate, target.platformId));
      retried += fetched.retried;
      const applied = await applyRoster(db, { contextRef, platformRef: target.platformRef, members: fetched.members, fetchStartedAt });
      log.info("roster.refreshed", { contextRef, members: applied.members, pages: fetched.pages, inactivated: applied.inactivated, dropped: applied.dropped });
      return { contextRef, outcome: "refreshed", ...applied, pages: fetched.pages, retried };
    } catch (error) {
      if (error instanceof RosterRetryLater) {
        retried += error.retried;
        log.warn("roster.retry_later", { contextRef, status: error.error.status });
        const out: ContextOutcome = { contextRef, outcome: "failed", reason: "retry_later", retried };
        if (error.waitMs !== undefined) out.retryAfterMs = error.waitMs;
        return out;
      }
      if (error instanceof LtiaasError && error.code && NO_NRPS_CODES.has(error.code)) {
        // LTIAAS says this key has no Names and Roles after all: a context without it is skipped, not
        // failed (another link's key of the context may still have it).
        lastReason = "no_nrps";
        log.info("roster.no_nrps", { contextRef, resourceLink: key.linkRef, code: error.code });
        continue;
      }
      if (error instanceof LtiaasError && error.kind === "needs_relaunch") {
        // Only the key we used: a relaunch may have stored a fresh one meanwhile.
        await markKeyNeedsRelaunch(db, key.linkRef, "roster_401", key.sealed);
        lastReason = "needs_relaunch";
        log.warn("roster.needs_relaunch", { contextRef, resourceLink: key.linkRef, status: error.status });
        continue;
      }
      if (error instanceof LtiaasError) {
        log.warn("roster.failed", { contextRef, kind: error.kind, status: error.status });
        return { contextRef, outcome: "failed", reason: error.kind, retried };
      }
      log.error("roster.error", { contextRef, ...errorFields(error) });
      throw error;
    }
  }
  if (lastReason === "no_nrps") return { contextRef, outcome: "skipped", reason: "no_nrps" };
  return { contextRef, outcome: "failed", reason: lastReason, retried };
}

/** LTIAAS's refusals of the Names and Roles service itself, for this key or the whole account. */
const NO_NRPS_CODES = new Set(["SERVICE_NOT_AVAILABLE_FOR_CONTEXT", "INACTIVE_SERVICE"]);

/** Run counts: refreshed/skipped/failed contexts, reasons, members seen, memberships made Inactive. */
export function tally(outcomes: readonly ContextOutcome[]): Record<string, number> {
  const counts: Record<string, number> = { refreshed: 0, skipped: 0, failed: 0 };
  const add = (k: string, n = 1) => (counts[k] = (counts[k] ?? 0) + n);
  for (const o of outcomes) {
    add(o.outcome);
    if (o.outcome === "refreshed") {
      add("members", o.members);
      add("inactivated", o.inactivated);
      if (o.dropped) add("dropped", o.dropped);
      if (o.retried) add("retried", o.retried);
    } else if (o.outcome === "skipped") add(`skipped_${o.reason}`);
    else {
      add(`failed_${o.reason}`);
      if (o.retried) add("retried", o.retried);
    }
  }
  return counts;
}
