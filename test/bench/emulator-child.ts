/**
 * The emulator in its own process for the sync bench, so its timers and HTTP work do not share the
 * pipeline's event loop (as a real LMS would not). Seeds the courses described by BENCH_EMU_SPEC
 * (JSON: [{prefix, platforms, contexts, learners, productFamilyCode?}]), prints one JSON line
 * {url, triples}, then obeys stdin lines, answering each with one line (`ok`, a JSON line, or
 * `error <message>`):
 * - `latency <ms>`
 * - `stats` → {inFlightMax, throttled, requests} (per platform: most requests in flight, throttled answers)
 * - `throttle <json>`: {platformId?: string | string[] (default every seeded platform), mode, …bucket
 *   parameters, relayHeaders?, sustainableInFlight?} — with mode "canvas" and sustainableInFlight n,
 *   the per-request cost is the one at which n requests in flight at the current latency just drain
 *   (canvasCostForInFlight); answers {platformId: settings} as set.
 * - `throttle-status` → {platformId: {level, remaining, refused, …}} for the seeded platforms
 * - `faults <json>`: assigns fault knobs (e.g. {"lineItemPageSize":100,"timestampRefusal":{"remaining":1}});
 *   arrays become sets for notGradable, maxAttempts, inactivePlatforms
 * - `control <json>`: {method, args} calls one Emulator control (setHandGrade, setLmsFamily,
 *   setGradebookKnobs, setDueDate, setThrottle, throttle, gradebook, gradebookKnobs, lmsFamily, scores)
 *   and answers its result as JSON (`ok` when it returns nothing).
 */
import { createInterface } from "node:readline";
import { startEmulatorServer } from "../../lib/emulator/server";
import { canvasCostForInFlight } from "../../lib/emulator/throttle";
import type { Emulator, ThrottleInput } from "../../lib/emulator";

type SeedSpec = { prefix: string; platforms: number; contexts: number; learners: number; productFamilyCode?: string };

const spec = JSON.parse(process.env.BENCH_EMU_SPEC ?? "[]") as SeedSpec[];
const emu = await startEmulatorServer({ apiKey: process.env.BENCH_API_KEY ?? "bench-api-key" });
const e = emu.emulator;
// Ends with the bench that started it, even when the bench was killed before its clean-up.
const parentPid = process.ppid;
setInterval(() => process.ppid !== parentPid && process.exit(0), 1_000).unref();
const triples = [];
const platformIds = new Set<string>();
for (const s of spec)
  for (let p = 0; p < s.platforms; p++)
    for (let c = 0; c < s.contexts; c++) {
      const platformId = `${s.prefix}-p${p}`;
      const contextId = `${s.prefix}-c${c}`;
      const resourceLinkId = "rl";
      const productFamilyCode = s.productFamilyCode;
      platformIds.add(platformId);
      e.createLaunch({ platformId, contextId, resourceLinkId, productFamilyCode, user: { id: "t" }, roles: ["Instructor"] });
      const lineItemId = e.addLineItem(platformId, contextId, { label: "Bench", scoreMaximum: 10, resourceLinkId });
      const { serviceKey } = e.createLaunch({ platformId, contextId, resourceLinkId, user: { id: "t" }, roles: ["Instructor"], lineItemId });
      e.setRoster(platformId, contextId, Array.from({ length: s.learners }, (_, i) => ({ userId: `u${i}`, roles: ["Learner"] })));
      triples.push({ prefix: s.prefix, platformId, contextId, resourceLinkId, lineItemId, serviceKey });
    }
process.stdout.write(`${JSON.stringify({ url: emu.url, triples })}\n`);

const CONTROLS = [
  "setHandGrade",
  "setLmsFamily",
  "setGradebookKnobs",
  "setDueDate",
  "setThrottle",
  "throttle",
  "gradebook",
  "gradebookKnobs",
  "lmsFamily",
  "scores",
] as const satisfies readonly (keyof Emulator)[];
const SETS = ["notGradable", "maxAttempts", "inactivePlatforms"] as const;

let latencyMs = 0;

function obey(cmd: string, rest: string): unknown {
  switch (cmd) {
    case "latency":
      latencyMs = Number(rest);
      e.faults.latencyMs = latencyMs;
      return undefined;
    case "stats": {
      const s = e.stats();
      return { inFlightMax: s.inFlightMaxByPlatform, throttled: s.throttledByPlatform, requests: s.requests };
    }
    case "throttle": {
      const { platformId, sustainableInFlight, ...input } = JSON.parse(rest) as ThrottleInput & {
        platformId?: string | string[];
        sustainableInFlight?: number;
      };
      if (input.mode === "canvas" && sustainableInFlight !== undefined && input.requestCost === undefined) {
        input.requestCost = canvasCostForInFlight(sustainableInFlight, latencyMs, input.outflowPerSecond);
      }
      const ids = platformId === undefined ? [...platformIds] : [platformId].flat();
      const out: Record<string, unknown> = {};
      for (const id of ids) {
        e.setThrottle(id, input);
        out[id] = e.throttle(id).settings;
      }
      return out;
    }
    case "throttle-status":
      return Object.fromEntries([...platformIds].map((id) => [id, e.throttle(id)]));
    case "faults": {
      const knobs = JSON.parse(rest) as Record<string, unknown>;
      for (const [name, value] of Object.entries(knobs)) {
        if ((SETS as readonly string[]).includes(name)) (e.faults as unknown as Record<string, unknown>)[name] = new Set(value as string[]);
        else (e.faults as unknown as Record<string, unknown>)[name] = value;
      }
      return undefined;
    }
    case "control": {
      const { method, args } = JSON.parse(rest) as { method: string; args?: unknown[] };
      if (!(CONTROLS as readonly string[]).includes(method)) throw new Error(`not a control: ${method}`);
      const fn = e[method as (typeof CONTROLS)[number]] as (...a: unknown[]) => unknown;
      return fn.apply(e, args ?? []);
    }
    default:
      throw new Error(`unknown command: ${cmd}`);
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  const trimmed = line.trim();
  const at = trimmed.search(/\s/);
  const cmd = at < 0 ? trimmed : trimmed.slice(0, at);
  const rest = at < 0 ? "" : trimmed.slice(at + 1);
  try {
    const result = obey(cmd, rest);
    process.stdout.write(result === undefined ? "ok\n" : `${JSON.stringify(result)}\n`);
  } catch (err) {
    process.stdout.write(`error ${(err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ")}\n`);
  }
}
await emu.close();
