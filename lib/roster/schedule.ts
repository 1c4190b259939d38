/**
 * After a teacher's launch, a stale roster is refreshed soon, outside the launch: the launch calls
 * `scheduleRosterRefresh` and returns at once. Inline, a per-context timer (unref'd) coalesces
 * launches within ROSTER debounce; with Inngest, a roster-context event that a debounced function
 * picks up. Nothing here throws into the caller; failures are logged.
 */
import { sql } from "drizzle-orm";
import { getDb, type Db } from "../db/client";
import { rowsOf } from "../db/rows";
import { env } from "../env";
import { EVENTS } from "../jobs/events";
import { errorFields, log } from "../log";
import { rosterStale } from "./targets";
import { rosterTuning } from "./tuning";

type Scheduler = (contextRef: string) => void;

const holder = globalThis as unknown as {
  __gradesyncRosterTimers?: Map<string, NodeJS.Timeout>;
  __gradesyncRosterScheduler?: Scheduler | null;
};
const timers = (holder.__gradesyncRosterTimers ??= new Map());

/** Stale (or never refreshed) and refreshable: some resource link has an active Names-and-Roles key. */
export async function rosterRefreshWanted(db: Db, contextRef: string): Promise<{ platformId: string } | null> {
  const rows = await rowsOf<{ platform_id: string }>(db, sql`SELECT p.platform_id FROM contexts c JOIN platforms p ON p.id = c.platform_ref
    WHERE c.id = ${contextRef}::uuid
      AND ${rosterStale(env().rosterMaxAgeHours)}
      AND EXISTS (SELECT 1 FROM resource_links rl JOIN service_keys sk ON sk.resource_link_ref = rl.id
                  WHERE rl.context_ref = c.id AND sk.has_nrps AND sk.state = 'active')`);
  return rows[0] ? { platformId: rows[0].platform_id } : null;
}

/** For the launch: returns at once and never throws (failures are logged). */
export function scheduleRosterRefresh(contextRef: string): void {
  try {
    const override = holder.__gradesyncRosterScheduler;
    if (override !== undefined) {
      override?.(contextRef);
      return;
    }
    if (timers.has(contextRef)) return;
    requestRosterRefresh(contextRef).catch((error) => log.warn("roster.schedule_failed", { contextRef, ...errorFields(error) }));
  } catch (error) {
    log.warn("roster.schedule_failed", { contextRef, ...errorFields(error) });
  }
}

export type RefreshRequest = "scheduled" | "already_scheduled" | "sent" | "not_needed";

/** What scheduleRosterRefresh does, awaitable: a debounce timer inline, an event under Inngest. */
export async function requestRosterRefresh(contextRef: string): Promise<RefreshRequest> {
  if (timers.has(contextRef)) return "already_scheduled";
  // The database of this moment: a timer must not open another one later (tests swap databases).
  const db = await getDb();
  const wanted = await rosterRefreshWanted(db, contextRef);
  if (!wanted) return "not_needed";
  if (env().jobsMode === "inngest") {
    const { inngest } = await import("../inngest/client");
    await inngest.send({ name: EVENTS.rosterContext, data: { contextRef, platformId: wanted.platformId, runId: null, reason: "launch" } });
    return "sent";
  }
  if (timers.has(contextRef)) return "already_scheduled";
  const timer = setTimeout(() => {
    timers.delete(contextRef);
    import("./job")
      .then((m) => m.refreshContextInline(contextRef, "debounce", { db }))
      .catch((error) => log.warn("roster.debounced_failed", { contextRef, ...errorFields(error) }));
  }, rosterTuning().debounceMs);
  timer.unref();
  timers.set(contextRef, timer);
  return "scheduled";
}

/** Tests replace the scheduler (a spy, or `null` to drop every request); `undefined` restores it. */
export function setRosterSchedulerForTests(scheduler: Scheduler | null | undefined): void {
  holder.__gradesyncRosterScheduler = scheduler;
  for (const t of timers.values()) clearTimeout(t);
  timers.clear();
}

/** Timers waiting to fire (tests). */
export function pendingRosterRefreshes(): string[] {
  return [...timers.keys()];
}
