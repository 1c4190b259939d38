/**
 * Where a CPU profile's time goes: self time by package or file (node_modules grouped by package, our
 * code by file), the top functions, and the idle share. `npx tsx test/bench/profile-summary.ts FILE [N]`
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
const [file, top = "15"] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

function where(url: string): string {
  if (!url) return "(native / V8)";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith("node:")) return url;
  const m = /\/(lib|app|test)\/(.*)$/.exec(url);
  return m ? `${m[1]}/${m[2]}` : url;
}
const groups = new Map<string, number>();
const fns = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const name = n.callFrame.functionName || "(anonymous)";
  const special = ["(idle)", "(program)", "(garbage collector)"].includes(name);
  const g = special ? name : where(n.callFrame.url);
  groups.set(g, (groups.get(g) ?? 0) + us);
  const f = special ? name : `${name} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  fns.set(f, (fns.get(f) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled`);
console.log("by package / file (self time):");
for (const [g, us] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) console.log(`  ${pct(us)}  ${g}`);
console.log("top functions (self time):");
for (const [f, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) console.log(`  ${pct(us)}  ${f}`);
