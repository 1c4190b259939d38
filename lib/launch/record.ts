/**
 * Persists what a launch tells us, in one short transaction: platform → context → resource link →
 * user → membership, and the sealed serviceKey overwritten for the triple. Every write is an upsert
 * on a unique key, so concurrent launches of one triple converge on one row of each.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { contexts, memberships, platforms, resourceLinks, serviceKeys, users } from "../db/schema";
import type { RoleKind } from "./roles";

export interface LaunchFacts {
  platform: { id: string; url?: string; clientId?: string; deploymentId?: string; name?: string; productFamilyCode?: string };
  context: { id: string; label?: string; title?: string };
  resourceLink: { id: string; title?: string };
  user: { id: string; name?: string; email?: string };
  roles: string[];
  kind: RoleKind;
  testUser: boolean;
  lineItemId?: string;
  /** The serviceKey, already sealed for this triple (never the plaintext). */
  sealedKey?: { sealed: string; keyId: string; hasAgs: boolean; hasNrps: boolean };
}

export interface LaunchRefs {
  platformRef: string;
  contextRef: string;
  resourceLinkRef: string;
  userRef: string;
}

export async function recordLaunch(db: Db, f: LaunchFacts, now = new Date()): Promise<LaunchRefs> {
  return db.transaction(async (tx) => {
    const [platform] = await tx
      .insert(platforms)
      .values({
        platformId: f.platform.id,
        url: f.platform.url,
        clientId: f.platform.clientId,
        deploymentId: f.platform.deploymentId,
        name: f.platform.name,
        productFamilyCode: f.platform.productFamilyCode,
      })
      .onConflictDoUpdate({
        target: platforms.platformId,
        set: {
          // A launch that omits a field keeps what an earlier one told us.
          url: sql`coalesce(excluded.url, ${platforms.url})`,
          clientId: sql`coalesce(excluded.client_id, ${platforms.clientId})`,
          deploymentId: sql`coalesce(excluded.deployment_id, ${platforms.deploymentId})`,
          name: sql`coalesce(excluded.name, ${platforms.name})`,
          productFamilyCode: sql`coalesce(excluded.product_family_code, ${platforms.productFamilyCode})`,
          updatedAt: now,
        },
      })
      .returning({ id: platforms.id });

    const [context] = await tx
      .insert(contexts)
      .values({ platformRef: platform.id, contextId: f.context.id, label: f.context.label, title: f.context.title })
      .onConflictDoUpdate({
        target: [contexts.platformRef, contexts.contextId],
        set: {
          label: sql`coalesce(excluded.label, ${contexts.label})`,
          title: sql`coalesce(excluded.title, ${contexts.title})`,
          updatedAt: now,
        },
      })
      .returning({ id: contexts.id });

    const [link] = await tx
      .insert(resourceLinks)
      .values({ contextRef: context.id, resourceLinkId: f.resourceLink.id, title: f.resourceLink.title, launchLineItemId: f.lineItemId })
      .onConflictDoUpdate({
        target: [resourceLinks.contextRef, resourceLinks.resourceLinkId],
        set: {
          title: sql`coalesce(excluded.title, ${resourceLinks.title})`,
          launchLineItemId: sql`coalesce(excluded.launch_line_item_id, ${resourceLinks.launchLineItemId})`,
          updatedAt: now,
        },
      })
      .returning({ id: resourceLinks.id });

    const [user] = await tx
      .insert(users)
      .values({ platformRef: platform.id, userId: f.user.id, name: f.user.name, email: f.user.email })
      .onConflictDoUpdate({
        target: [users.platformRef, users.userId],
        set: {
          name: sql`coalesce(excluded.name, ${users.name})`,
          email: sql`coalesce(excluded.email, ${users.email})`,
          updatedAt: now,
        },
      })
      .returning({ id: users.id });

    await tx
      .insert(memberships)
      .values({ contextRef: context.id, userRef: user.id, roles: f.roles, kind: f.kind, testUser: f.testUser, status: "Active", lastLaunchAt: now, updatedAt: now })
      .onConflictDoUpdate({
        target: [memberships.contextRef, memberships.userRef],
        set: { roles: f.roles, kind: f.kind, testUser: f.testUser, status: "Active", lastLaunchAt: now, updatedAt: now },
      });

    if (f.sealedKey) {
      const k = f.sealedKey;
      // Overwritten on every launch: the freshest key is the one that works (the guide's advice).
      await tx
        .insert(serviceKeys)
        .values({ resourceLinkRef: link.id, sealed: k.sealed, keyId: k.keyId, hasAgs: k.hasAgs, hasNrps: k.hasNrps, state: "active", stateChangedAt: now, capturedAt: now, lastLaunchAt: now })
        .onConflictDoUpdate({
          target: serviceKeys.resourceLinkRef,
          set: {
            sealed: k.sealed,
            keyId: k.keyId,
            hasAgs: k.hasAgs,
            hasNrps: k.hasNrps,
            state: "active",
            stateReason: null,
            stateChangedAt: sql`case when ${serviceKeys.state} = 'active' then ${serviceKeys.stateChangedAt} else ${now.toISOString()}::timestamptz end`,
            capturedAt: now,
            lastLaunchAt: now,
          },
        });
    }
    return { platformRef: platform.id, contextRef: context.id, resourceLinkRef: link.id, userRef: user.id };
  });
}
