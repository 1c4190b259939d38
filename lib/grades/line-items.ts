/**
 * Which line item a resource link's scores go to: the one the launch named; else one found by
 * resourceLinkId (or by our own resourceId/tag); else — only for a link that never had one — one we
 * create, exactly once: a lease on the resource link row lets a single run create it, and a find
 * runs again under the lease so a crash after creating never makes a second column.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";
import type { LineItem } from "../ltiaas";
import { LtiaasError } from "../ltiaas/errors";
import { OUR_TAG, type GradeClient } from "./client";
import { sleep } from "../ltiaas/gate";

export type LineItemResolution =
  | { state: "ok"; id: string }
  | { state: "missing" }
  | { state: "unresolved"; reason: string };

export interface LinkInfo {
  id: string;
  resourceLinkId: string;
  title: string | null;
  contextTitle: string | null;
  launchLineItemId: string | null;
  lineItemId: string | null;
  lineItemState: string;
  lineItemCreatedAt: Date | string | null;
}

type Auth = { serviceKey: string };

export const ourResourceId = (linkRef: string) => `gradesync:${linkRef}`;
const CLAIM_SECONDS = 60;

/** The creation claim passed to another run before our create request left. */
class ClaimLost extends Error {}

async function markOk(db: Db, linkRef: string, id: string, created = false): Promise<LineItemResolution> {
  await db.execute(sql`UPDATE resource_links SET line_item_id = ${id}::text, line_item_state = 'ok', line_item_checked_at = now(),
    line_item_created_at = CASE WHEN ${created}::boolean THEN now() ELSE line_item_created_at END,
    line_item_claim = NULL, line_item_claim_until = NULL WHERE id = ${linkRef}::uuid`);
  return { state: "ok", id };
}

async function markMissing(db: Db, linkRef: string, goneId: string | null): Promise<LineItemResolution> {
  await db.execute(sql`UPDATE resource_links SET line_item_state = 'missing', line_item_id = coalesce(${goneId}::text, line_item_id),
    line_item_checked_at = now() WHERE id = ${linkRef}::uuid`);
  return { state: "missing" };
}

async function find(client: GradeClient, auth: Auth, link: LinkInfo, exclude?: string): Promise<LineItem | undefined> {
  const byLink = (await client.listLineItems(auth, { resourceLinkId: link.resourceLinkId })).filter((li) => li.id !== exclude);
  if (byLink.length) return byLink.find((li) => li.tag === OUR_TAG) ?? byLink[0];
  const ours = (await client.listLineItems(auth, { resourceId: ourResourceId(link.id) })).filter(
    (li) => li.id !== exclude && li.resourceId === ourResourceId(link.id),
  );
  return ours[0];
}

export async function resolveLineItem(
  db: Db,
  client: GradeClient,
  auth: Auth,
  link: LinkInfo,
  scoreMaximum: () => Promise<number>,
): Promise<LineItemResolution> {
  if (link.lineItemState === "ok" && link.lineItemId) return { state: "ok", id: link.lineItemId };
  // A relaunch that names another line item revives a missing one.
  if (link.launchLineItemId && (link.lineItemState !== "missing" || link.launchLineItemId !== link.lineItemId))
    return markOk(db, link.id, link.launchLineItemId);
  if (link.lineItemState === "missing") return { state: "missing" };

  const found = await find(client, auth, link);
  if (found) return markOk(db, link.id, found.id);
  // "Only for a resource link that never had one."
  if (link.lineItemId || link.lineItemCreatedAt) return markMissing(db, link.id, null);

  const token = randomUUID();
  const claimed = await rowsOf<unknown>(db, sql`UPDATE resource_links SET line_item_claim = ${token}::text,
      line_item_claim_until = now() + make_interval(secs => ${CLAIM_SECONDS}::int)
    WHERE id = ${link.id}::uuid AND line_item_id IS NULL AND line_item_created_at IS NULL
      AND (line_item_claim IS NULL OR line_item_claim_until < now()) RETURNING id`);
  if (claimed.length === 0) return waitForOtherCreator(db, link.id);

  try {
    // Under the lease, look again: a run that crashed after creating left its item findable.
    const again = await find(client, auth, link);
    if (again) return markOk(db, link.id, again.id);
    // The look-ups and the wait for the platform (its slots, a Retry-After) may have outlasted the
    // claim: the create request leaves only if the claim is still ours, renewed for the request
    // itself — checked once the request is about to leave, not before it queues.
    const created = await client.createLineItem(
      auth,
      {
        label: link.title ?? link.contextTitle ?? "Gradesync",
        scoreMaximum: await scoreMaximum(),
        resourceLinkId: link.resourceLinkId,
        resourceId: ourResourceId(link.id),
        tag: OUR_TAG,
      },
      {
        beforeSend: async () => {
          const still = await rowsOf<unknown>(db, sql`UPDATE resource_links SET line_item_claim_until = now() + make_interval(secs => ${CLAIM_SECONDS}::int)
            WHERE id = ${link.id}::uuid AND line_item_claim = ${token}::text AND line_item_id IS NULL RETURNING id`);
          if (still.length === 0) throw new ClaimLost();
        },
      },
    );
    return markOk(db, link.id, created.id, true);
  } catch (error) {
    // Another run took the claim over: it creates (or has created) the line item.
    if (error instanceof ClaimLost) return waitForOtherCreator(db, link.id);
    await db.execute(sql`UPDATE resource_links SET line_item_claim = NULL, line_item_claim_until = NULL
      WHERE id = ${link.id}::uuid AND line_item_claim = ${token}::text`);
    throw error;
  }
}

async function waitForOtherCreator(db: Db, linkRef: string): Promise<LineItemResolution> {
  for (let i = 0; i < 40; i++) {
    const rows = await rowsOf<{ line_item_id: string | null; line_item_state: string; line_item_claim: string | null }>(
      db,
      sql`SELECT line_item_id, line_item_state, line_item_claim FROM resource_links WHERE id = ${linkRef}::uuid`,
    );
    const r = rows[0];
    if (r?.line_item_state === "ok" && r.line_item_id) return { state: "ok", id: r.line_item_id };
    if (!r?.line_item_claim) break;
    await sleep(250);
  }
  return { state: "unresolved", reason: "line_item_being_created" };
}

/** After a 404 on a score post: look the line item up once more (never create), else it is missing. */
export async function reresolveAfterNotFound(
  db: Db,
  client: GradeClient,
  auth: Auth,
  link: LinkInfo,
  goneId: string,
): Promise<LineItemResolution> {
  let found: LineItem | undefined;
  try {
    found = await find(client, auth, link, goneId);
  } catch (error) {
    if (!(error instanceof LtiaasError) || error.kind !== "not_found") throw error;
  }
  if (found) return markOk(db, link.id, found.id);
  return markMissing(db, link.id, goneId);
}
