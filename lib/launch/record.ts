/**
 * Persists what a launch tells us: platform → context → resource link → user → membership, and the
 * sealed serviceKey overwritten for the triple. It is ONE statement (a chain of data-modifying
 * CTEs): atomic without an explicit transaction, one round trip instead of eight — launches are the
 * hot path — and every part is an upsert on a unique key, so concurrent launches of one triple
 * converge on one row of each.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";
import type { RoleKind } from "../lti/roles";

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
  const at = now.toISOString();
  const p = f.platform;
  const key = f.sealedKey;
  // A launch that omits an optional field keeps what an earlier launch told us (coalesce).
  const rows = await rowsOf<{ platform_ref: string; context_ref: string; resource_link_ref: string; user_ref: string }>(db, sql`
    WITH p AS (
      INSERT INTO platforms (platform_id, url, client_id, deployment_id, name, product_family_code)
      VALUES (${p.id}, ${p.url ?? null}, ${p.clientId ?? null}, ${p.deploymentId ?? null}, ${p.name ?? null}, ${p.productFamilyCode ?? null})
      ON CONFLICT (platform_id) DO UPDATE SET
        url = coalesce(excluded.url, platforms.url),
        client_id = coalesce(excluded.client_id, platforms.client_id),
        deployment_id = coalesce(excluded.deployment_id, platforms.deployment_id),
        name = coalesce(excluded.name, platforms.name),
        product_family_code = coalesce(excluded.product_family_code, platforms.product_family_code),
        updated_at = ${at}::timestamptz
      RETURNING id
    ), c AS (
      INSERT INTO contexts (platform_ref, context_id, label, title)
      SELECT p.id, ${f.context.id}, ${f.context.label ?? null}, ${f.context.title ?? null} FROM p
      ON CONFLICT (platform_ref, context_id) DO UPDATE SET
        label = coalesce(excluded.label, contexts.label),
        title = coalesce(excluded.title, contexts.title),
        updated_at = ${at}::timestamptz
      RETURNING id
    ), l AS (
      INSERT INTO resource_links (context_ref, resource_link_id, title, launch_line_item_id)
      SELECT c.id, ${f.resourceLink.id}, ${f.resourceLink.title ?? null}, ${f.lineItemId ?? null} FROM c
      ON CONFLICT (context_ref, resource_link_id) DO UPDATE SET
        title = coalesce(excluded.title, resource_links.title),
        launch_line_item_id = coalesce(excluded.launch_line_item_id, resource_links.launch_line_item_id),
        updated_at = ${at}::timestamptz
      RETURNING id
    ), u AS (
      INSERT INTO users (platform_ref, user_id, name, email)
      SELECT p.id, ${f.user.id}, ${f.user.name ?? null}, ${f.user.email ?? null} FROM p
      ON CONFLICT (platform_ref, user_id) DO UPDATE SET
        name = coalesce(excluded.name, users.name),
        email = coalesce(excluded.email, users.email),
        updated_at = ${at}::timestamptz
      RETURNING id
    ), m AS (
      INSERT INTO memberships (context_ref, user_ref, roles, kind, test_user, status, last_launch_at, updated_at)
      SELECT c.id, u.id, ${sql.param(f.roles)}::text[],
             ${f.kind}, ${f.testUser}, 'Active', ${at}::timestamptz, ${at}::timestamptz
      FROM c, u
      ON CONFLICT (context_ref, user_ref) DO UPDATE SET
        roles = excluded.roles, kind = excluded.kind, test_user = excluded.test_user, status = 'Active',
        last_launch_at = excluded.last_launch_at, updated_at = excluded.updated_at
    ), k AS (
      -- Overwritten on every launch: the freshest key is the one that works (the guide's advice).
      INSERT INTO service_keys (resource_link_ref, sealed, key_id, has_ags, has_nrps, state, state_changed_at, captured_at, last_launch_at)
      SELECT l.id, ${key?.sealed ?? null}, ${key?.keyId ?? null}, ${key?.hasAgs ?? false}, ${key?.hasNrps ?? false},
             'active', ${at}::timestamptz, ${at}::timestamptz, ${at}::timestamptz
      FROM l WHERE ${key !== undefined}
      ON CONFLICT (resource_link_ref) DO UPDATE SET
        sealed = excluded.sealed, key_id = excluded.key_id, has_ags = excluded.has_ags, has_nrps = excluded.has_nrps,
        state = 'active', state_reason = NULL,
        state_changed_at = CASE WHEN service_keys.state = 'active' THEN service_keys.state_changed_at ELSE excluded.state_changed_at END,
        captured_at = excluded.captured_at, last_launch_at = excluded.last_launch_at
    )
    SELECT p.id AS platform_ref, c.id AS context_ref, l.id AS resource_link_ref, u.id AS user_ref FROM p, c, l, u
  `);
  const row = rows[0];
  return { platformRef: row.platform_ref, contextRef: row.context_ref, resourceLinkRef: row.resource_link_ref, userRef: row.user_ref };
}
