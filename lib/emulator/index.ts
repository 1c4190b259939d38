/**
 * The bundled LTIAAS + LMS emulator, in memory, as one web-standard handler: mounted by a plain Node
 * server (server.ts: tests, bench) or by the Next route app/emulator/[[...path]]. It answers the
 * LTIAAS API under <base>/api (faults included, see Faults) and serves an LMS simulator page under
 * <base>/lms. Keys never appear on its pages or in its request log.
 */
import { routeApi } from "./api";
import { authenticate } from "./auth";
import { defaultFaults, injectedFault, latencyFor, resetFaults } from "./faults";
import { ltiaasError, sleep } from "./http";
import { lmsPages } from "./lms";
import { LmsState, publicLineItem } from "./state";
import type { Emulator, EmulatorOptions, RequestLogEntry } from "./types";
import { env } from "../env";

export type * from "./types";

/** Oldest entries are dropped past this, so a long-running dev server does not grow without end. */
const LOG_CAP = 100_000;

/**
 * The origin the client used. Next hands route handlers a URL on "localhost" whatever the browser
 * asked for, which would put the LMS page on the tool's own site; the Host header says what was asked.
 * X-Forwarded-Host is not read: Next passes a client's own value through, and this origin names the
 * LMS (see lms.ts) — which decides who may frame the tool.
 */
function publicOrigin(req: Request, url: URL): string {
  const host = req.headers.get("host");
  if (!host) return url.origin;
  try {
    return new URL(`${url.protocol}//${host}`).origin;
  } catch {
    return url.origin;
  }
}

export function createEmulator(opts: EmulatorOptions): Emulator {
  const basePath = (opts.basePath ?? "").replace(/\/+$/, "");
  let state = new LmsState();
  const faults = defaultFaults();
  const log: RequestLogEntry[] = [];
  let requests = 0;
  let inFlight = new Map<string, number>();
  let inFlightMax = new Map<string, number>();

  function record(entry: RequestLogEntry) {
    log.push(entry);
    // Trimmed in chunks: one splice per request past the cap would shift 100k entries each time.
    if (log.length > LOG_CAP * 1.1) log.splice(0, log.length - LOG_CAP);
  }

  async function api(req: Request, url: URL, path: string, base: string): Promise<Response> {
    const started = performance.now();
    const entry: RequestLogEntry = { at: new Date().toISOString(), method: req.method, path: path + url.search, auth: "none", status: 0, ms: 0 };
    requests += 1;
    const finish = (response: Response, userId?: string) => {
      entry.status = response.status;
      entry.ms = Math.round(performance.now() - started);
      if (userId !== undefined) entry.userId = userId;
      record(entry);
      return response;
    };

    const auth = authenticate(req.headers.get("authorization"), opts.apiKey, state, Date.now());
    if (!auth.ok) {
      entry.auth = auth.kind;
      await sleep(latencyFor(faults, undefined));
      return finish(auth.response);
    }
    const p = auth.principal;
    entry.auth = p.kind;
    const platformId = p.kind === "bearer" ? undefined : p.platformId;
    if (platformId !== undefined) {
      entry.platformId = platformId;
      if (faults.inactivePlatforms.has(platformId)) {
        return finish(ltiaasError(400, "UNREGISTERED_OR_INACTIVE_PLATFORM", "The platform is not registered or not active."));
      }
    }

    const key = platformId ?? "";
    const now = (inFlight.get(key) ?? 0) + 1;
    inFlight.set(key, now);
    if (now > (inFlightMax.get(key) ?? 0)) inFlightMax.set(key, now);
    const counters = inFlight;
    try {
      await sleep(latencyFor(faults, platformId), req.signal);
      if (faults.hangMs) await sleep(faults.hangMs, req.signal);
      // The client gave up while we stalled: like an LMS that never got the request, change nothing.
      if (req.signal.aborted) return finish(new Response(null, { status: 499 }));
      const fault = injectedFault(faults, platformId);
      if (fault) return finish(fault);
      const answer = await routeApi(req, path, url, p, { state, faults, base });
      return finish(answer.response, answer.userId);
    } finally {
      // After a reset the old counters are gone; do not let a straggler skew the new ones.
      if (counters === inFlight) inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
    }
  }

  const emulator: Emulator = {
    async handle(req) {
      const url = new URL(req.url);
      let path = url.pathname;
      if (basePath && (path === basePath || path.startsWith(`${basePath}/`))) path = path.slice(basePath.length);
      if (path === "") path = "/";
      const base = `${publicOrigin(req, url)}${basePath}`;
      if (path === "/api" || path.startsWith("/api/")) return api(req, url, path, base);
      if (path === "/") return new Response(null, { status: 302, headers: { location: `${base}/lms` } });
      if (path === "/lms" || path.startsWith("/lms/")) {
        return lmsPages(req, url, path, { emulator, state, base, toolUrl: opts.toolUrl });
      }
      return new Response("Not found", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
    },
    createLaunch(input) {
      return state.createLaunch(input);
    },
    setRoster(platformId, contextId, members) {
      state.setRoster(platformId, contextId, members);
    },
    addLineItem(platformId, contextId, item) {
      return state.addLineItem(platformId, contextId, item).id;
    },
    deleteLineItem(id) {
      const item = state.items.get(id);
      if (item) item.deleted = true;
    },
    revokeServiceKey(serviceKey) {
      const key = state.serviceKeys.get(serviceKey);
      if (key) key.revoked = true;
    },
    expireLtik(ltik) {
      const launch = state.launches.get(ltik);
      if (launch) launch.expired = true;
    },
    faults,
    log,
    scores(lineItemId) {
      return (state.posts.get(lineItemId) ?? []).map((p) => ({ ...p }));
    },
    lineItems(platformId, contextId) {
      return state.lineItems(platformId, contextId).map(publicLineItem);
    },
    members(platformId, contextId) {
      return state.members(platformId, contextId).map((m) => ({ ...m }));
    },
    stats() {
      const byPlatform = (m: Map<string, number>) =>
        Object.fromEntries([...m].filter(([k]) => k !== "").map(([k, v]) => [k, v]));
      return { inFlightMaxByPlatform: byPlatform(inFlightMax), inFlightByPlatform: byPlatform(inFlight), requests };
    },
    reset() {
      state = new LmsState();
      resetFaults(faults);
      log.length = 0;
      requests = 0;
      inFlight = new Map();
      inFlightMax = new Map();
    },
  };
  return emulator;
}

const processWide = globalThis as unknown as { __gradesyncEmulator?: Emulator };

/**
 * The emulator of this process (the Next mount), kept on globalThis so Next's dev reloads keep its
 * state. Its API key is the tool's own, so the tool and its emulator always agree.
 */
export function getProcessEmulator(): Emulator {
  return (processWide.__gradesyncEmulator ??= createEmulator({ apiKey: env().ltiaasApiKey, basePath: "/emulator" }));
}
