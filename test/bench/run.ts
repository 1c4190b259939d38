/**
 * `npm run bench [name…]`: runs every test/bench/*.bench.ts (or those named) one after another, each
 * in its own process so one's memory does not colour the next. Benches that start the app need
 * `npm run build`; benches that use a database need Postgres at BENCH_DATABASE_URL (default the
 * machine's local one). What is missing is said in one line before anything runs.
 *
 * Ctrl-C (or SIGTERM) stops the running bench and everything it started, and no benchmark database
 * stays behind: each bench runs in its own process group, which is signalled and then killed, and
 * the databases it named after its pid are dropped afterwards whatever way it ended.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { BenchSetupError, benchAdmin } from "./support";

const dir = import.meta.dirname;
const root = path.resolve(dir, "../..");
const wanted = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();
if (benches.length === 0) {
  console.error(`No bench named ${wanted.join(", ")}: choose among ${readdirSync(dir).filter((f) => f.endsWith(".bench.ts")).map((f) => f.replace(".bench.ts", "")).join(", ")}.`);
  process.exit(1);
}

/** What a bench needs, read from its source: the production build (it starts the app), Postgres (it makes a database). */
function needs(file: string): { build: boolean; postgres: boolean } {
  const source = readFileSync(path.join(dir, file), "utf8");
  return { build: /\bstartNext\(/.test(source), postgres: /\bfreshDatabase\(/.test(source) };
}

/** Says in one line what stops these benches from starting, or nothing. */
async function preflight(): Promise<string | undefined> {
  const wants = benches.map((f) => ({ file: f, ...needs(f) }));
  const building = wants.filter((w) => w.build).map((w) => w.file);
  if (building.length && !existsSync(path.join(root, ".next", "BUILD_ID")))
    return `${building.join(", ")} ${building.length > 1 ? "start" : "starts"} the built app: run \`npm run build\` first (or name other benches: npm run bench sync).`;
  if (wants.some((w) => w.postgres)) {
    try {
      await (await benchAdmin()).end();
    } catch (error) {
      if (error instanceof BenchSetupError) return error.message;
      throw error;
    }
  }
  return undefined;
}

/** Drops the databases a bench process named after its pid (what a killed bench could not drop itself). */
async function sweep(pid: number): Promise<void> {
  let admin;
  try {
    admin = await benchAdmin();
  } catch {
    return; // no Postgres: nothing could have been made there
  }
  try {
    const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`%\\_${pid}`]);
    for (const { datname } of rows) {
      // Only the benches' own names (gs_bench_*, gradesync_bench_*): never another database that ends alike.
      if (!new RegExp(`^(gs|gradesync)_bench_[a-z0-9_]+_${pid}$`).test(datname)) continue;
      await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
      console.log(`(dropped the benchmark database ${datname} the bench left)`);
    }
  } finally {
    await admin.end();
  }
}

let current: ChildProcess | undefined;
let stopping = false;
const signalGroup = (child: ChildProcess, signal: NodeJS.Signals) => {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* gone */
  }
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.error(`\nStopping the bench (${signal})…`);
    if (!current) process.exit(130);
    // The bench drops its databases on SIGTERM; whatever is still alive 10 s later is killed.
    signalGroup(current, "SIGTERM");
    setTimeout(() => current && signalGroup(current, "SIGKILL"), 10_000).unref();
  });
}

const problem = await preflight();
if (problem) {
  console.error(problem);
  process.exit(1);
}

let failed = 0;
for (const file of benches) {
  if (stopping) break;
  console.log(`\n## ${file}`);
  const child = spawn(process.execPath, ["--import", "tsx", path.join(dir, file)], { stdio: "inherit", env: process.env, detached: true });
  current = child;
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  // Whatever the bench started and left running (a server, an emulator) goes with it.
  signalGroup(child, "SIGKILL");
  current = undefined;
  await sweep(child.pid!);
  if (code !== 0) failed++;
}
process.exit(stopping ? 130 : failed ? 1 : 0);
