/**
 * The bundled LTIAAS + LMS emulator, in memory, as one web-standard handler: mounted by a plain Node
 * server (server.ts: tests, bench) or by the Next route app/emulator/[[...path]]. It answers the
 * LTIAAS API under <base>/api (faults included, see Faults) and serves an LMS simulator page under
 * <base>/lms. Keys never appear on its pages or in its request log.
 */
import { routeApi } from "./api";
import { authenticate } from "./auth";
import { defaultFaults, injectedFault, latencyFor, resetFaults } from "./faults";
import { handEdit, publicCell } from "./gradebook";
import { ltiaasError, sleep } from "./http";
import { lmsPages } from "./lms";
import { LmsState, publicLineItem, type StoredLineItem } from "./state";
import { createThrottle, noThrottleStatus, type Admission } from "./throttle";
import type { Emulator, EmulatorOptions, GradebookKnobs, LmsFamily, RequestLogEntry } from "./types";
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

const FAMILIES: readonly LmsFamily[] = ["canvas", "moodle", "d2l", "generic"];

export function createEmulator(opts: EmulatorOptions): Emulator {
  const basePath = (opts.basePath ?? "").replace(/\/+$/, "");
  const now = opts.now ?? (() => Date.now());
  let state = new LmsState();
  const faults = defaultFaults();
  const log: RequestLogEntry[] = [];
  let requests = 0;
  let inFlight = new Map<string, number>();
  let inFlightMax = new Map<string, number>();
  let throttled = new Map<string, number>();

  function lineItem(id: string): StoredLineItem {
    const item = state.items.get(id);
    if (!item || item.deleted) throw new Error(`No line item ${id}`);
    return item;
  }

  function record(entry: RequestLogEntry) {
    log.push(entry);
    // Trimmed in chunks: one splice per request past the cap would shift 100k entries each time.
    if (log.length > LOG_CAP * 1.1) log.splice(0, log.length - LOG_CAP);
  }

  async function api(req: Request, url: URL, path: string, base: string): Promise<Response> {
    const started = performance.now();
    const entry: RequestLogEntry = { at: new Date(now()).toISOString(), method: req.method, path: path + url.search, auth: "none", status: 0, ms: 0 };
    requests += 1;
    const finish = (response: Response, answer?: { userId?: string; sent?: RequestLogEntry["sent"] }) => {
      entry.status = response.status;
      entry.ms = Math.round(performance.now() - started);
      if (answer?.userId !== undefined) entry.userId = answer.userId;
      if (answer?.sent !== undefined) entry.sent = answer.sent;
      record(entry);
      return response;
    };

    const auth = authenticate(req.headers.get("authorization"), opts.apiKey, state, now());
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
    const count = (inFlight.get(key) ?? 0) + 1;
    inFlight.set(key, count);
    if (count > (inFlightMax.get(key) ?? 0)) inFlightMax.set(key, count);
    const counters = inFlight;
    const countThrottled = () => {
      if (platformId !== undefined && counters === inFlight) throttled.set(platformId, (throttled.get(platformId) ?? 0) + 1);
    };
    // The LMS's throttle judges a request as it arrives and charges it when it ends.
    const admission: Admission | undefined = platformId === undefined ? undefined : state.settings.get(platformId)?.throttle?.admit(now());
    let settled = false;
    const settle = (response: Response) => {
      if (settled || !admission) return response;
      settled = true;
      for (const [name, value] of Object.entries(admission.settle(now()))) response.headers.set(name, value);
      return response;
    };
    try {
      await sleep(latencyFor(faults, platformId), req.signal);
      if (faults.hangMs && (!faults.hangMethod || faults.hangMethod === req.method)) {
        const ms = faults.hangMs;
        if (faults.hangTimes !== undefined && --faults.hangTimes <= 0) faults.hangMs = faults.hangTimes = undefined;
        await sleep(ms, req.signal);
      }
      // The client gave up while we stalled: like an LMS that never got the request, change nothing.
      if (req.signal.aborted) return finish(settle(new Response(null, { status: 499 })));
      if (admission?.refusal) {
        countThrottled();
        return finish(admission.refusal);
      }
      const fault = injectedFault(faults, platformId, req.method);
      if (fault) {
        if (fault.status === 429 || fault.status === 403) countThrottled();
        return finish(settle(fault));
      }
      const answer = await routeApi(req, path, url, p, { state, faults, base, now });
      return finish(settle(answer.response), answer);
    } finally {
      if (!settled) admission?.settle(now());
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
      return state.createLaunch(input, now());
    },
    setRoster(platformId, contextId, members) {
      state.setRoster(platformId, contextId, members);
    },
    addLineItem(platformId, contextId, item) {
      return state.addLineItem(platformId, contextId, item).id;
    },
    setDueDate(lineItemId, endDateTime) {
      const item = lineItem(lineItemId);
      if (endDateTime === null) {
        delete item.endDateTime;
        return;
      }
      if (Number.isNaN(Date.parse(endDateTime))) throw new Error(`Not a date: ${endDateTime}`);
      item.endDateTime = endDateTime;
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
    gradebook(lineItemId) {
      const item = state.items.get(lineItemId);
      if (!item) return [];
      const family = state.lmsFamily(item.platformId);
      return [...(state.cells.get(lineItemId)?.values() ?? [])].map((cell) => publicCell(item, cell, family));
    },
    setHandGrade(lineItemId, userId, value, opts) {
      handEdit(state, lineItem(lineItemId), userId, value, now(), opts?.comment);
    },
    setLmsFamily(platformId, family) {
      if (family !== null && !FAMILIES.includes(family)) throw new Error(`Unknown LMS family: ${String(family)}`);
      const settings = state.settingsOf(platformId);
      if (family === null) delete settings.family;
      else settings.family = family;
    },
    lmsFamily(platformId) {
      return state.lmsFamily(platformId);
    },
    setGradebookKnobs(target, knobs) {
      const own: Partial<GradebookKnobs> =
        "lineItemId" in target ? (lineItem(target.lineItemId).knobs ??= {}) : state.settingsOf(target.platformId).knobs;
      for (const name of ["dropZeroScores", "discardScores"] as const) {
        const value = knobs[name];
        if (value === null) delete own[name];
        else if (value !== undefined) own[name] = value;
      }
    },
    gradebookKnobs(lineItemId) {
      return state.gradebookKnobs(lineItem(lineItemId));
    },
    setThrottle(platformId, input) {
      state.settingsOf(platformId).throttle = createThrottle(input);
    },
    throttle(platformId) {
      return state.settings.get(platformId)?.throttle?.status(now()) ?? noThrottleStatus();
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
      return {
        inFlightMaxByPlatform: byPlatform(inFlightMax),
        inFlightByPlatform: byPlatform(inFlight),
        throttledByPlatform: byPlatform(throttled),
        requests,
      };
    },
    reset() {
      state = new LmsState();
      resetFaults(faults);
      log.length = 0;
      requests = 0;
      inFlight = new Map();
      inFlightMax = new Map();
      throttled = new Map();
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
