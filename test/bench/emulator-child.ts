/**
 * The emulator in its own process for the sync bench, so its timers and HTTP work do not share the
 * pipeline's event loop (as a real LMS would not). Seeds the courses described by BENCH_EMU_SPEC
 * (JSON: [{prefix, platforms, contexts, learners}]), prints one JSON line {url, triples}, then obeys
 * stdin lines: `latency <ms>`, `stats` (answers a JSON line with in-flight maxima and request count).
 */
import { createInterface } from "node:readline";
import { startEmulatorServer } from "../../lib/emulator/server";

const spec = JSON.parse(process.env.BENCH_EMU_SPEC ?? "[]") as { prefix: string; platforms: number; contexts: number; learners: number }[];
const emu = await startEmulatorServer({ apiKey: process.env.BENCH_API_KEY ?? "bench-api-key" });
const e = emu.emulator;
const triples = [];
for (const s of spec)
  for (let p = 0; p < s.platforms; p++)
    for (let c = 0; c < s.contexts; c++) {
      const platformId = `${s.prefix}-p${p}`;
      const contextId = `${s.prefix}-c${c}`;
      const resourceLinkId = "rl";
      e.createLaunch({ platformId, contextId, resourceLinkId, user: { id: "t" }, roles: ["Instructor"] });
      const lineItemId = e.addLineItem(platformId, contextId, { label: "Bench", scoreMaximum: 10, resourceLinkId });
      const { serviceKey } = e.createLaunch({ platformId, contextId, resourceLinkId, user: { id: "t" }, roles: ["Instructor"], lineItemId });
      e.setRoster(platformId, contextId, Array.from({ length: s.learners }, (_, i) => ({ userId: `u${i}`, roles: ["Learner"] })));
      triples.push({ prefix: s.prefix, platformId, contextId, resourceLinkId, lineItemId, serviceKey });
    }
process.stdout.write(`${JSON.stringify({ url: emu.url, triples })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (cmd === "latency") e.faults.latencyMs = Number(arg);
  if (cmd === "stats") {
    const s = e.stats();
    process.stdout.write(`${JSON.stringify({ inFlightMax: s.inFlightMaxByPlatform, requests: s.requests })}\n`);
    continue;
  }
  process.stdout.write("ok\n");
}
await emu.close();
