/**
 * Where a bench's time went, from a `node --cpu-prof` profile: samples by where their function lives
 * (idle, GC, our lib/, pg, drizzle, node internals…) and the heaviest functions by self time. With
 * `--from µs --to µs` (the profile-mark lines a bench prints under --cpu-prof) only that part counts.
 *
 *   node --import tsx test/bench/cpu-profile-summary.ts PROFILE.cpuprofile [--from µs --to µs] [--top 20]
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: Node[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : undefined;
};
const file = args[0];
if (!file) {
  console.error("usage: cpu-profile-summary.ts PROFILE.cpuprofile [--from µs --to µs] [--top n]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const from = opt("--from") ?? -Infinity;
const to = opt("--to") ?? Infinity;
const top = opt("--top") ?? 20;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

export function areaOf(url: string, name: string): string {
  if (name === "(idle)") return "idle (waiting: network, database, timers)";
  if (name === "(garbage collector)") return "garbage collector";
  if (name === "(program)") return "V8/native (program)";
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return `node_modules/${m[1]}`;
  const ours = /\/(lib|app|test)\/(.*?)(?:\/[^/]*)?$/.exec(url);
  if (ours) return `${ours[1]}/${ours[2].split("/")[0]}`;
  if (url.startsWith("node:")) return "node internals";
  return url ? "other" : "native";
}

const area = new Map<string, number>();
const fn = new Map<string, number>();
let t = profile.startTime;
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i];
  const dt = profile.timeDeltas[i + 1] ?? 0;
  if (t < from || t > to) continue;
  const n = byId.get(profile.samples[i])!;
  const { functionName, url, lineNumber } = n.callFrame;
  const a = areaOf(url, functionName);
  area.set(a, (area.get(a) ?? 0) + dt);
  const key = `${functionName || "(anonymous)"} ${url.replace(/^.*?\/(node_modules|lib|app|test)\//, "$1/")}:${lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + dt);
  total += dt;
}
const pct = (v: number) => `${((100 * v) / total).toFixed(1).padStart(5)}%`;
const ms = (v: number) => `${(v / 1000).toFixed(0).padStart(6)} ms`;
console.log(`window ${(total / 1e6).toFixed(2)} s of samples`);
console.log("by area:");
for (const [k, v] of [...area].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(v)} ${ms(v)}  ${k}`);
console.log(`heaviest functions (self time):`);
for (const [k, v] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(v)} ${ms(v)}  ${k}`);
