/**
 * Reading what a line item holds (AGS results), through the platform's gate like any other request.
 * A run reads a line item once — every page (`?limit=`, then `next`) — or, when that would cost
 * more requests than the rows it needs, user by user (`?userId=`). What it read is kept in the
 * database for the run (lms_reads, lms_results), so every step of the run shares it, wherever it runs.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rowsOf } from "../db/rows";
import type { LtiaasClient, Result } from "../ltiaas";
import { SealError } from "../crypto/seal";
import { loadLinks, serviceAuth, throughGate, type GateDeps } from "./push/links";
import type { LmsResult } from "./truth";

/** Results asked for per page (LMSs may answer fewer and page on). */
export const RESULTS_PAGE = 100;

export interface ReadbackDeps extends GateDeps {
  db: Db;
  client: Pick<LtiaasClient, "listResultsPage">;
  /** The run the read is kept for; null: not kept. */
  runId: string | null;
}

export interface ReadTarget {
  linkRef: string;
  platformId: string;
  lineItemId: string;
  auth: { serviceKey: string };
}

const asResult = (r: Result): LmsResult => ({
  score: typeof r.resultScore === "number" ? r.resultScore : null,
  maximum: typeof r.resultMaximum === "number" ? r.resultMaximum : null,
});

/** Requests a whole read takes for a line item holding about `rows` results. */
export const pagesFor = (rows: number) => Math.max(1, Math.ceil(rows / RESULTS_PAGE));

/** What the run already read of the line item (these users', or all), and whether it read every page. */
async function kept(deps: ReadbackDeps, t: ReadTarget, userIds: string[] | null): Promise<{ complete: boolean; results: Map<string, LmsResult | null> } | null> {
  if (!deps.runId) return null;
  const [read] = await rowsOf<{ complete: boolean; line_item_id: string }>(
    deps.db,
    sql`SELECT complete, line_item_id FROM lms_reads WHERE run_id = ${deps.runId}::uuid AND resource_link_ref = ${t.linkRef}::uuid`,
  );
  // Another line item since (a 404 moved the link): the read does not count.
  if (!read || read.line_item_id !== t.lineItemId) return null;
  const filter = userIds ? sql`AND user_id IN (SELECT jsonb_array_elements_text(${JSON.stringify(userIds)}::jsonb))` : sql``;
  const rows = await rowsOf<{ user_id: string; result_score: number | null; result_maximum: number | null }>(
    deps.db,
    sql`SELECT user_id, result_score, result_maximum FROM lms_results
        WHERE run_id = ${deps.runId}::uuid AND resource_link_ref = ${t.linkRef}::uuid ${filter}`,
  );
  const results = new Map<string, LmsResult | null>(rows.map((r) => [r.user_id, { score: num(r.result_score), maximum: num(r.result_maximum) }]));
  // A complete read knows every user: one it did not list has no result.
  if (read.complete) for (const u of userIds ?? []) if (!results.has(u)) results.set(u, null);
  return { complete: read.complete, results };
}

const num = (v: number | string | null) => (v === null ? null : Number(v));

async function remember(deps: ReadbackDeps, t: ReadTarget, results: Map<string, LmsResult | null>, complete: boolean): Promise<void> {
  if (!deps.runId) return;
  const rows = [...results].map(([u, r]) => ({ u, s: r?.score ?? null, m: r?.maximum ?? null }));
  await deps.db.execute(sql`WITH r AS (
      INSERT INTO lms_reads (run_id, resource_link_ref, line_item_id, complete)
      VALUES (${deps.runId}::uuid, ${t.linkRef}::uuid, ${t.lineItemId}::text, ${complete}::boolean)
      ON CONFLICT (run_id, resource_link_ref) DO UPDATE SET complete = lms_reads.complete OR excluded.complete,
        line_item_id = excluded.line_item_id, read_at = now()
    )
    INSERT INTO lms_results (run_id, resource_link_ref, user_id, result_score, result_maximum)
    SELECT ${deps.runId}::uuid, ${t.linkRef}::uuid, x.u, x.s, x.m FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(u text, s float8, m float8)
    ON CONFLICT (run_id, resource_link_ref, user_id) DO UPDATE SET result_score = excluded.result_score, result_maximum = excluded.result_maximum`);
}

/**
 * Every result of the line item: read once for the run (all pages), then from what was kept.
 * `keep: false` reads without keeping (a reconcile keeps a read only when its run may push to the link).
 */
export async function readAll(deps: ReadbackDeps, t: ReadTarget, opts: { keep?: boolean } = {}): Promise<Map<string, LmsResult | null>> {
  const known = await kept(deps, t, null);
  if (known?.complete) return known.results;
  const out = new Map<string, LmsResult | null>();
  let page = await throughGate(deps, t.platformId, (o) => deps.client.listResultsPage(t.auth, t.lineItemId, { limit: RESULTS_PAGE }, o));
  for (let pages = 1; ; pages++) {
    for (const r of page.results) out.set(r.userId, asResult(r));
    const next = page.next;
    if (!next || pages >= 10_000) break;
    page = await throughGate(deps, t.platformId, (o) => deps.client.listResultsPage(t.auth, t.lineItemId, { url: next }, o));
  }
  if (opts.keep !== false) await remember(deps, t, out, true);
  return out;
}

/** Keeps a whole read made with `keep: false` for the run after all. */
export const keepRead = (deps: ReadbackDeps, t: ReadTarget, results: Map<string, LmsResult | null>) => remember(deps, t, results, true);

/** These users' results: from what the run read already, else one `?userId=` request each. */
export async function readUsers(deps: ReadbackDeps, t: ReadTarget, userIds: string[]): Promise<Map<string, LmsResult | null>> {
  const out = (await kept(deps, t, userIds))?.results ?? new Map<string, LmsResult | null>();
  const fresh = new Map<string, LmsResult | null>();
  for (const userId of userIds) {
    if (out.has(userId)) continue;
    const page = await throughGate(deps, t.platformId, (o) => deps.client.listResultsPage(t.auth, t.lineItemId, { userId }, o));
    const mine = page.results.find((r) => r.userId === userId);
    fresh.set(userId, mine ? asResult(mine) : null);
  }
  if (fresh.size) await remember(deps, t, fresh, false);
  for (const [u, r] of fresh) out.set(u, r);
  return out;
}

/** Reads kept for runs older than this are dropped (the nightly push prunes them). */
export async function pruneReads(db: Db, hours = 24): Promise<void> {
  await db.execute(sql`WITH old AS (DELETE FROM lms_reads WHERE read_at < now() - make_interval(hours => ${hours}::int) RETURNING run_id, resource_link_ref)
    DELETE FROM lms_results r USING old WHERE r.run_id = old.run_id AND r.resource_link_ref = old.resource_link_ref`);
}

/**
 * A link as it can be read now: its line item as last resolved, its key opened, and its rows waiting
 * to be sent. Null when it cannot be read — paused, no active key, no line item — or the key does not open.
 */
export async function openLink(deps: ReadbackDeps, linkRef: string): Promise<{ target: ReadTarget; pending: number } | null> {
  const [link] = await loadLinks(deps.db, sql`rl.id = ${linkRef}::uuid`);
  if (!link || link.paused || !link.sealed || link.key_state !== "active" || link.line_item_state !== "ok" || !link.line_item_id) return null;
  let auth: { serviceKey: string };
  try {
    auth = await serviceAuth(link);
  } catch (error) {
    if (error instanceof SealError) return null;
    throw error;
  }
  return { target: { linkRef, platformId: link.platform_id, lineItemId: link.line_item_id, auth }, pending: link.pending };
}

/** A link's results read now (a preview, a reconcile); null when it cannot be read (openLink). */
export async function readLink(deps: ReadbackDeps, linkRef: string): Promise<Map<string, LmsResult | null> | null> {
  const link = await openLink(deps, linkRef);
  return link ? readAll(deps, link.target) : null;
}
