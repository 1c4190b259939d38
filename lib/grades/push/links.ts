/**
 * Preparing a context's push: its resource links with pending rows, each one's serviceKey opened and
 * line item resolved (found, or created once). Line item calls go through the platform's gate like
 * score posts. A link that cannot be pushed now says why; only that link waits.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { open, SealError } from "../../crypto/seal";
import { rowsOf } from "../../db/rows";
import { LtiaasError } from "../../ltiaas/errors";
import { throttlesPlatform, watch } from "../../ltiaas/gate";
import type { CallOptions } from "../../ltiaas";
import { log } from "../../log";
import { markKeyNeedsRelaunch } from "../../service-keys";
import type { GradeClient } from "../client";
import { resolveLineItem, type LinkInfo } from "../line-items";
import { MIN_RETRY_AFTER_MS, type PushDeps } from "./deps";
import { outcomeOf } from "./outcome";

export interface PreparedLink {
  linkRef: string;
  /** ok: send to lineItemId; otherwise why this link is not pushed now. */
  state: "ok" | "paused" | "needs_relaunch" | "no_key" | "unreadable_key" | "missing" | "unresolved" | "retry_later";
  lineItemId?: string;
  reason?: string;
  /** Rows waiting on the link (a paused link's are counted as left for the pause). */
  pending: number;
  /** retry_later because the line item look-up never reached LTIAAS. */
  unreachable?: boolean;
}

export interface PreparedContext {
  contextRef: string;
  platformId: string | null;
  links: PreparedLink[];
}

export interface LinkRow {
  id: string;
  resource_link_id: string;
  title: string | null;
  context_title: string | null;
  launch_line_item_id: string | null;
  line_item_id: string | null;
  line_item_state: string;
  line_item_created_at: string | null;
  platform_id: string;
  context_id: string;
  sealed: string | null;
  key_state: string | null;
  product_family_code: string | null;
  /** The link or its platform is paused: nothing calls the LMS for it. */
  paused: boolean;
  /** Pending rows and all rows of the link (from the counters). */
  pending: number;
  rows: number;
}

export const linkInfo = (r: LinkRow): LinkInfo => ({
  id: r.id,
  resourceLinkId: r.resource_link_id,
  title: r.title,
  contextTitle: r.context_title,
  launchLineItemId: r.launch_line_item_id,
  lineItemId: r.line_item_id,
  lineItemState: r.line_item_state,
  lineItemCreatedAt: r.line_item_created_at,
});

export async function loadLinks(db: Db, where: ReturnType<typeof sql>): Promise<LinkRow[]> {
  const rows = await rowsOf<LinkRow>(
    db,
    sql`SELECT rl.id, rl.resource_link_id, rl.title, c.title AS context_title, rl.launch_line_item_id, rl.line_item_id,
               rl.line_item_state, rl.line_item_created_at, p.platform_id, c.context_id, sk.sealed, sk.state AS key_state,
               p.product_family_code, (rl.paused_at IS NOT NULL OR p.paused_at IS NOT NULL) AS paused,
               coalesce(gc.pending, 0) AS pending,
               coalesce(gc.pending + gc.sent + gc.skipped + gc.failed + gc.overridden, 0) AS rows
        FROM resource_links rl JOIN contexts c ON c.id = rl.context_ref JOIN platforms p ON p.id = c.platform_ref
        LEFT JOIN service_keys sk ON sk.resource_link_ref = rl.id
        LEFT JOIN grade_counters gc ON gc.resource_link_ref = rl.id
        WHERE ${where}`,
  );
  return rows.map((r) => ({ ...r, pending: Number(r.pending), rows: Number(r.rows) }));
}

/**
 * The client for line item calls (look-ups, the one create): each request takes a slot of the
 * platform's gate like a score post, and a throttle holds the whole platform. Without it, many
 * contexts of one platform resolving at once would all be in flight together.
 */
export function gatedClient(deps: GateDeps & { client: GradeClient }, platformId: string): GradeClient {
  const { client } = deps;
  return {
    listLineItems: (auth, q, opts) => throughGate(deps, platformId, (o) => client.listLineItems(auth, q, o), opts),
    getLineItem: (auth, id, opts) => throughGate(deps, platformId, (o) => client.getLineItem(auth, id, o), opts),
    createLineItem: (auth, input, opts) => throughGate(deps, platformId, (o) => client.createLineItem(auth, input, o), opts),
    listResultsPage: (auth, id, q, opts) => throughGate(deps, platformId, (o) => client.listResultsPage(auth, id, q, o), opts),
    postScore: (...a: Parameters<GradeClient["postScore"]>) => client.postScore(...a),
  };
}

export type GateDeps = Pick<PushDeps, "gate" | "maxHoldWaitMs">;

/**
 * One request through the platform's gate: a slot of its window, its answer paces the window, and a
 * throttle holds the whole platform. `call` gets the options to pass on (the caller's `opts` kept).
 */
export async function throughGate<R>(deps: GateDeps, platformId: string, call: (opts: CallOptions) => Promise<R>, opts?: CallOptions): Promise<R> {
  const release = await deps.gate.tryAcquire(platformId, deps.maxHoldWaitMs);
  // Held (Retry-After) longer than this run waits: the link is retried by a later run.
  if (!release) throw new LtiaasError({ kind: "retry_later", operation: "lineItems", reason: "platform rate limited (Retry-After)" });
  const watched = watch(deps.gate, platformId, opts);
  try {
    const out = await call(watched.options);
    watched.done();
    return out;
  } catch (error) {
    watched.done(error);
    if (error instanceof LtiaasError && throttlesPlatform(error))
      deps.gate.hold(platformId, Date.now() + Math.max(MIN_RETRY_AFTER_MS, (error.retryAfterSeconds ?? 0) * 1000));
    else {
      // LTIAAS unreachable: held as a score post would hold it (outcome.ts decides how long).
      const outcome = outcomeOf(error, 0);
      if (outcome.kind === "retry" && outcome.unreachable && outcome.holdMs) deps.gate.hold(platformId, Date.now() + outcome.holdMs, { local: true });
    }
    throw error;
  } finally {
    release();
  }
}

/** Opens the link's serviceKey right before use; the plaintext never leaves this call chain. */
export async function serviceAuth(r: LinkRow): Promise<{ serviceKey: string }> {
  return { serviceKey: await open(r.sealed!, { platformId: r.platform_id, contextId: r.context_id, resourceLinkId: r.resource_link_id }) };
}

/** Links of the context with pending rows (from the counters, not the ledger), line items resolved. */
export async function prepareLinks(deps: PushDeps, contextRef: string): Promise<PreparedContext> {
  const { db } = deps;
  const links = await loadLinks(
    db,
    sql`rl.context_ref = ${contextRef}::uuid AND rl.id IN (SELECT resource_link_ref FROM grade_counters WHERE context_ref = ${contextRef}::uuid AND pending > 0)`,
  );
  const out: PreparedContext = { contextRef, platformId: links[0]?.platform_id ?? null, links: [] };
  for (const r of links) {
    // Paused (a teacher regrading, an operator holding the LMS): its rows wait, nothing is called.
    if (r.paused) {
      out.links.push({ linkRef: r.id, state: "paused", pending: r.pending });
      continue;
    }
    if (!r.sealed) {
      out.links.push({ linkRef: r.id, state: "no_key", pending: r.pending });
      continue;
    }
    if (r.key_state !== "active") {
      out.links.push({ linkRef: r.id, state: "needs_relaunch", pending: r.pending });
      continue;
    }
    try {
      // Only needed to create a line item: the largest scoreMaximum among the first pending rows.
      const scoreMaximum = async () => {
        const [{ max }] = await rowsOf<{ max: number | null }>(
          db,
          sql`SELECT max(score_maximum) AS max FROM (SELECT score_maximum FROM grade_rows
              WHERE resource_link_ref = ${r.id}::uuid AND state = 'pending' ORDER BY id LIMIT 1000) s`,
        );
        return max ?? 100;
      };
      const res = await resolveLineItem(db, gatedClient(deps, r.platform_id), await serviceAuth(r), linkInfo(r), scoreMaximum);
      out.links.push(
        res.state === "ok"
          ? { linkRef: r.id, state: "ok", lineItemId: res.id, pending: r.pending }
          : { linkRef: r.id, state: res.state, reason: res.state === "unresolved" ? res.reason : undefined, pending: r.pending },
      );
    } catch (error) {
      // Not a reason to fail the whole run: only this link is stuck (its rows stay pending) until a
      // launch seals a fresh key, or the operator puts the dropped encryption key back.
      if (error instanceof SealError) {
        log.warn("push.key_unreadable", { linkRef: r.id, reason: error.reason });
        out.links.push({ linkRef: r.id, state: "unreadable_key", reason: error.reason, pending: r.pending });
        continue;
      }
      if (error instanceof LtiaasError && error.kind === "needs_relaunch") {
        await markKeyNeedsRelaunch(db, r.id, error.code ?? "unauthorized", r.sealed);
        out.links.push({ linkRef: r.id, state: "needs_relaunch", pending: r.pending });
      } else if (error instanceof LtiaasError) {
        out.links.push({ linkRef: r.id, state: "retry_later", reason: error.kind, pending: r.pending, ...(error.unreachable ? { unreachable: true } : {}) });
      } else throw error;
    }
  }
  return out;
}
