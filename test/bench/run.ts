/**
 * `npm run bench [name…]`: runs every test/bench/*.bench.ts (or those named) one after another, each
 * in its own process so one's memory does not colour the next. Needs `npm run build` for benches
 * that start the app, and Postgres at BENCH_DATABASE_URL (default the machine's local one).
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";

const dir = import.meta.dirname;
const wanted = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();
let failed = 0;
for (const file of benches) {
  console.log(`\n## ${file}`);
  const run = spawnSync(process.execPath, ["--import", "tsx", path.join(dir, file)], { stdio: "inherit", env: process.env });
  if (run.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
