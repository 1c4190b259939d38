/**
 * Pages through GET /api/memberships with one serviceKey, following `next` through `?url=`. Every
 * request takes a slot of the per-platform gate (shared with score posts). A 429/5xx/timeout is
 * retried after Retry-After or a backoff, a bounded number of times; a Retry-After holds the
 * whole platform, as for pushes. Nothing is written here: the caller swaps the roster in only
 * once the last page has arrived.
 */
import { sleep, throttlesPlatform, watch, type PlatformGate } from "../ltiaas/gate";
import { LtiaasError, isRetryable, type CallOptions, type Member, type MembershipsPage } from "../ltiaas";
import type { RosterClient } from "./client";
import type { RosterTuning } from "./tuning";

/** A paging loop that never ends is a broken server, not a big course (100,000 members at 50 a page). */
export const MAX_ROSTER_PAGES = 2_000;
/** Asked for; LMSs cap it (Canvas at 50) and some default to far fewer. */
export const PAGE_LIMIT = 100;

export interface FetchDeps {
  client: RosterClient;
  gate: PlatformGate;
  tuning: RosterTuning;
}

export interface FetchedRoster {
  members: Member[];
  pages: number;
  /** Requests that were tried again. */
  retried: number;
}

/** The refresh gave up on a retryable answer; `waitMs` is how long the platform asked for. */
export class RosterRetryLater extends Error {
  constructor(
    readonly error: LtiaasError,
    readonly waitMs: number | undefined,
    readonly retried: number,
  ) {
    super(`roster page still refused after retries (${error.status ?? "no response"})`);
    this.name = "RosterRetryLater";
  }
}

export async function fetchRoster(deps: FetchDeps, platformId: string, serviceKey: string): Promise<FetchedRoster> {
  const auth = { serviceKey };
  const out: FetchedRoster = { members: [], pages: 0, retried: 0 };
  const seen = new Set<string>();
  let next: string | undefined;
  for (;;) {
    const page = await fetchPage(deps, platformId, (opts) =>
      deps.client.listMembershipsPage(auth, next === undefined ? { limit: PAGE_LIMIT } : { url: next }, opts),
      out,
    );
    out.pages++;
    out.members.push(...page.members);
    if (!page.next) return out;
    if (seen.has(page.next) || out.pages >= MAX_ROSTER_PAGES)
      throw new LtiaasError({ kind: "bad_response", operation: "listMemberships", reason: "paging does not end" });
    seen.add(page.next);
    next = page.next;
  }
}

async function fetchPage(
  deps: FetchDeps,
  platformId: string,
  request: (opts: CallOptions) => Promise<MembershipsPage>,
  counts: FetchedRoster,
): Promise<MembershipsPage> {
  const { gate, tuning } = deps;
  for (let attempt = 1; ; attempt++) {
    // A platform held longer than this refresh may wait (a long Retry-After, perhaps from a score
    // post) ends the attempt now: the next run picks the context up, nothing stalls meanwhile.
    const release = await gate.tryAcquire(platformId, tuning.maxWaitMs);
    if (!release) {
      const held = new LtiaasError({ kind: "retry_later", operation: "listMemberships", reason: "the platform asked to wait" });
      throw new RosterRetryLater(held, Math.max(0, gate.heldUntil(platformId) - Date.now()), counts.retried);
    }
    let error: unknown;
    const watched = watch(gate, platformId);
    try {
      const page = await request(watched.options);
      watched.done();
      return page;
    } catch (e) {
      error = e;
      watched.done(e);
    } finally {
      release();
    }
    if (!(error instanceof LtiaasError) || !isRetryable(error)) throw error;
    const asked = error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : undefined;
    const throttled = throttlesPlatform(error);
    const backoff = tuning.backoffBaseMs * 2 ** (attempt - 1);
    const waitMs = asked ?? (throttled ? backoff : backoff / 2 + Math.random() * (backoff / 2));
    // The platform asked everyone to slow down, score posts included.
    if (throttled) gate.hold(platformId, Date.now() + waitMs);
    if (attempt >= tuning.maxAttempts || waitMs > tuning.maxWaitMs) throw new RosterRetryLater(error, asked, counts.retried);
    counts.retried++;
    await sleep(waitMs);
  }
}
