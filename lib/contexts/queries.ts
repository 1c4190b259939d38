/** Reads about one triple (resource link) for the LTI pages. */
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { contexts, gradeCounters, memberships, platforms, resourceLinks, serviceKeys, users } from "../db/schema";
import { UUID } from "../db/rows";

export interface ResourceLinkView {
  id: string;
  contextRef: string;
  title: string | null;
  resourceLinkId: string;
  launchLineItemId: string | null;
  course: { id: string; contextId: string; title: string | null; label: string | null };
  platform: { platformId: string; name: string | null; url: string | null; productFamilyCode: string | null };
  key: { state: "active" | "needs_relaunch" | "missing"; lastLaunchAt: Date | null; capturedAt: Date | null; stateReason: string | null };
  lineItem: { id: string | null; state: "ok" | "unresolved" | "missing"; checkedAt: Date | null };
  /** Ledger rows by state, from the trigger-kept counters (never a scan of the ledger). */
  counts: { pending: number; sent: number; skipped: number; failed: number; oldestPendingAt: Date | null };
  roster: { refreshedAt: Date | null; members: number; activeLearners: number };
}

export async function getResourceLinkView(db: Db, id: string): Promise<ResourceLinkView | null> {
  if (!UUID.test(id)) return null;
  const [row] = await db
    .select({
      link: resourceLinks,
      context: contexts,
      platform: platforms,
      key: { state: serviceKeys.state, lastLaunchAt: serviceKeys.lastLaunchAt, capturedAt: serviceKeys.capturedAt, stateReason: serviceKeys.stateReason },
      counts: { pending: gradeCounters.pending, sent: gradeCounters.sent, skipped: gradeCounters.skipped, failed: gradeCounters.failed, oldestPendingAt: gradeCounters.oldestPendingAt },
    })
    .from(resourceLinks)
    .innerJoin(contexts, eq(contexts.id, resourceLinks.contextRef))
    .innerJoin(platforms, eq(platforms.id, contexts.platformRef))
    .leftJoin(serviceKeys, eq(serviceKeys.resourceLinkRef, resourceLinks.id))
    .leftJoin(gradeCounters, eq(gradeCounters.resourceLinkRef, resourceLinks.id))
    .where(eq(resourceLinks.id, id))
    .limit(1);
  if (!row) return null;
  return {
    id: row.link.id,
    contextRef: row.context.id,
    title: row.link.title,
    resourceLinkId: row.link.resourceLinkId,
    launchLineItemId: row.link.launchLineItemId,
    course: { id: row.context.id, contextId: row.context.contextId, title: row.context.title, label: row.context.label },
    platform: { platformId: row.platform.platformId, name: row.platform.name, url: row.platform.url, productFamilyCode: row.platform.productFamilyCode },
    key: row.key?.state
      ? { state: row.key.state as "active" | "needs_relaunch", lastLaunchAt: row.key.lastLaunchAt, capturedAt: row.key.capturedAt, stateReason: row.key.stateReason }
      : { state: "missing", lastLaunchAt: null, capturedAt: null, stateReason: null },
    lineItem: {
      id: row.link.lineItemId ?? row.link.launchLineItemId,
      state: (["ok", "unresolved", "missing"] as const).find((s) => s === row.link.lineItemState) ?? "unresolved",
      checkedAt: row.link.lineItemCheckedAt,
    },
    counts: {
      pending: row.counts?.pending ?? 0,
      sent: row.counts?.sent ?? 0,
      skipped: row.counts?.skipped ?? 0,
      failed: row.counts?.failed ?? 0,
      oldestPendingAt: row.counts?.oldestPendingAt ?? null,
    },
    roster: { refreshedAt: row.context.rosterRefreshedAt, members: row.context.rosterMembers, activeLearners: row.context.rosterActiveLearners },
  };
}

/** The user's current role kind in the context (a roster refresh may have changed it since the launch). */
export async function memberKind(db: Db, contextRef: string, userRef: string): Promise<{ kind: string; name: string | null; userId: string } | null> {
  const [row] = await db
    .select({ kind: memberships.kind, status: memberships.status, name: users.name, userId: users.userId })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userRef))
    .where(and(eq(memberships.contextRef, contextRef), eq(memberships.userRef, userRef)))
    .limit(1);
  if (!row) return null;
  return { kind: row.status === "Active" ? row.kind : "inactive", name: row.name, userId: row.userId };
}
