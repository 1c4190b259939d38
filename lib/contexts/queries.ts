/** Reads about one triple (resource link) for the LTI pages. */
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { contexts, memberships, platforms, resourceLinks, serviceKeys, users } from "../db/schema";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ResourceLinkView {
  id: string;
  contextRef: string;
  title: string | null;
  resourceLinkId: string;
  launchLineItemId: string | null;
  course: { id: string; contextId: string; title: string | null; label: string | null };
  platform: { name: string | null; url: string | null; productFamilyCode: string | null };
  key: { state: "active" | "needs_relaunch" | "missing"; lastLaunchAt: Date | null; capturedAt: Date | null; stateReason: string | null };
}

export async function getResourceLinkView(db: Db, id: string): Promise<ResourceLinkView | null> {
  if (!UUID.test(id)) return null;
  const [row] = await db
    .select({ link: resourceLinks, context: contexts, platform: platforms, key: { state: serviceKeys.state, lastLaunchAt: serviceKeys.lastLaunchAt, capturedAt: serviceKeys.capturedAt, stateReason: serviceKeys.stateReason } })
    .from(resourceLinks)
    .innerJoin(contexts, eq(contexts.id, resourceLinks.contextRef))
    .innerJoin(platforms, eq(platforms.id, contexts.platformRef))
    .leftJoin(serviceKeys, eq(serviceKeys.resourceLinkRef, resourceLinks.id))
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
    platform: { name: row.platform.name, url: row.platform.url, productFamilyCode: row.platform.productFamilyCode },
    key: row.key?.state
      ? { state: row.key.state as "active" | "needs_relaunch", lastLaunchAt: row.key.lastLaunchAt, capturedAt: row.key.capturedAt, stateReason: row.key.stateReason }
      : { state: "missing", lastLaunchAt: null, capturedAt: null, stateReason: null },
  };
}

/** The user's current role kind in the context (a roster refresh may have changed it since the launch). */
export async function memberKind(db: Db, contextRef: string, userRef: string): Promise<{ kind: string; name: string | null } | null> {
  const [row] = await db
    .select({ kind: memberships.kind, status: memberships.status, name: users.name })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userRef))
    .where(and(eq(memberships.contextRef, contextRef), eq(memberships.userRef, userRef)))
    .limit(1);
  if (!row) return null;
  return { kind: row.status === "Active" ? row.kind : "inactive", name: row.name };
}
