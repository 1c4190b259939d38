/**
 * GET /api/status: one entry per (platform, context, resource link), most urgent first (the links
 * read model, lib/links), paged with an opaque keyset cursor, in the JSON the README documents.
 */
import { z } from "zod";
import type { Db } from "../db/client";
import { listLinks, type LinkKey, type LinkState } from "../links/state";
import { URGENCY_STATES, type UrgencyState } from "../links/urgency";
import { isPgTimestamptzText, ltiId, text } from "../validation";

export const statusQuerySchema = z.object({
  platformId: ltiId().optional(),
  contextId: ltiId().optional(),
  state: z.enum(URGENCY_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: text(500).optional(),
});
export type StatusQuery = z.infer<typeof statusQuerySchema>;

export interface StatusEntry {
  id: string;
  platformId: string;
  contextId: string;
  resourceLinkId: string;
  title: string | null;
  state: UrgencyState;
  key: { state: "active" | "needs_relaunch" | "missing"; lastLaunchAt: string | null };
  lineItem: { id: string | null; state: "ok" | "unresolved" | "missing" };
  scores: { pending: number; sent: number; skipped: number; failed: number; overridden: number };
  oldestPendingAt: string | null;
  paused: boolean;
  drift: { checkedAt: string | null; inSync: number; differs: number; missing: number };
  roster: { refreshedAt: string | null; members: number; activeLearners: number };
  lastRun: { kind: string; startedAt: string; finishedAt: string | null; outcome: string } | null;
}

// The middle part goes back to Postgres as a timestamptz: only what Postgres wrote (ISO DateStyle).
const PG_TIMESTAMPTZ = /^(infinity|\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2})$/;
const cursorSchema = z.tuple([
  z.number().int().min(0).max(3),
  z.string().max(40).regex(PG_TIMESTAMPTZ).refine(isPgTimestamptzText),
  z.number().int().max(0).min(-2_147_483_648),
  z.uuid(),
]);

export class BadCursorError extends Error {}

function decodeCursor(c: string): z.infer<typeof cursorSchema> {
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(c, "base64url").toString("utf8")));
  } catch {
    throw new BadCursorError("invalid cursor");
  }
}
const encodeCursor = (key: LinkKey) => Buffer.from(JSON.stringify(key)).toString("base64url");

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export function statusEntry(l: LinkState): StatusEntry {
  return {
    id: l.id,
    platformId: l.platform.platformId,
    contextId: l.course.contextId,
    resourceLinkId: l.resourceLinkId,
    title: l.title,
    state: l.state,
    key: { state: l.key.state, lastLaunchAt: iso(l.key.lastLaunchAt) },
    lineItem: { id: l.lineItem.id, state: l.lineItem.state },
    scores: { pending: l.counts.pending, sent: l.counts.sent, skipped: l.counts.skipped, failed: l.counts.failed, overridden: l.counts.overridden },
    oldestPendingAt: iso(l.counts.oldestPendingAt),
    paused: l.paused,
    drift: { checkedAt: iso(l.drift.checkedAt), inSync: l.drift.inSync, differs: l.drift.differs, missing: l.drift.missing },
    roster: { refreshedAt: iso(l.roster.refreshedAt), members: l.roster.members, activeLearners: l.roster.activeLearners },
    lastRun: l.lastRun ? { kind: l.lastRun.kind, startedAt: l.lastRun.startedAt.toISOString(), finishedAt: iso(l.lastRun.finishedAt), outcome: l.lastRun.outcome } : null,
  };
}

export async function listStatus(db: Db, q: StatusQuery): Promise<{ contexts: StatusEntry[]; next?: string }> {
  const after = q.cursor ? decodeCursor(q.cursor) : undefined;
  const page = await listLinks(db, { platformId: q.platformId, contextId: q.contextId, state: q.state }, { after, limit: q.limit });
  const contexts = page.links.map(statusEntry);
  return page.more && page.lastKey ? { contexts, next: encodeCursor(page.lastKey) } : { contexts };
}
