/**
 * The launch figures (issue 10's targets: the launch path also calls LTIAAS through the client),
 * measured side by side in one run against `next start` and the emulator, each with the machine's
 * load: what /launch adds on top of the idtoken round trip (BENCH_LAUNCHES, default 500, PGlite and
 * Postgres; target median ≤ 10 ms on Postgres), launches per second with 16 concurrent clients
 * (Postgres; target ≥ 250/s), and the server's RSS after the launches. Needs `npm run build`.
 *
 *   npm run bench launch
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEmulatorServer } from "../../lib/emulator/server";
import { openDatabase } from "../../lib/db/client";
import { startNext } from "../support/next-server";
import { cannotStart, cleanup, freshDatabase, load, ms, onExit, rssMb, summary } from "./support";

const N = Number(process.env.BENCH_LAUNCHES ?? 500);
const API_KEY = "bench-api-key";
const SECRETS = {
  LTIAAS_API_KEY: API_KEY,
  ENCRYPTION_KEYS: "YmVuY2gtZW5jcnlwdGlvbi1rZXktMzItYnl0ZXMtISE",
  SESSION_SECRET: "bench-session-secret-at-least-32-characters",
};
const ROLES = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"];

async function measure(label: string, dbEnv: Record<string, string>) {
  const emu = await startEmulatorServer({ apiKey: API_KEY, host: "127.0.0.1" });
  onExit(() => emu.close());
  const server = await startNext({ ...SECRETS, ...dbEnv, LTIAAS_URL: emu.url }).catch((error: unknown) =>
    cannotStart("launch", `next start failed (run \`npm run build\` first?): ${error instanceof Error ? error.message : String(error)}`),
  );
  onExit(() => server.stop());
  const launch = (i: number) =>
    emu.emulator.createLaunch({ platformId: "bench", contextId: `c${i % 50}`, resourceLinkId: `r${i % 50}`, user: { id: `u${i}` }, roles: ROLES });
  const idtokenOnly = async (ltik: string) => {
    const t0 = performance.now();
    const res = await fetch(`${emu.url}/api/idtoken`, { headers: { authorization: `LTIK-AUTH-V2 ${API_KEY}:${ltik}` } });
    await res.arrayBuffer();
    return performance.now() - t0;
  };
  const viaLaunch = async (ltik: string) => {
    const t0 = performance.now();
    const res = await fetch(`${server.url}/launch?ltik=${ltik}`, { redirect: "manual" });
    await res.arrayBuffer();
    if (res.status !== 303) throw new Error(`launch answered ${res.status}`);
    return performance.now() - t0;
  };
  for (let i = 0; i < 30; i++) await viaLaunch(launch(i).ltik); // warm-up: JIT, pools, PGlite caches

  const launchTimes: number[] = [];
  const idtokenTimes: number[] = [];
  for (let i = 0; i < N; i++) {
    // Alternate so both see the same machine state.
    idtokenTimes.push(await idtokenOnly(launch(i).ltik));
    launchTimes.push(await viaLaunch(launch(i).ltik));
  }
  const l = summary(launchTimes);
  const t = summary(idtokenTimes);
  const added = summary(launchTimes.map((v, i) => v - idtokenTimes[i]));
  say(`${label}: /launch median ${ms(l.median)} p95 ${ms(l.p95)}; idtoken round trip median ${ms(t.median)} p95 ${ms(t.p95)}`);
  say(`${label}: added by /launch median ${ms(added.median)} p95 ${ms(added.p95)}${label === "postgres" ? " (target median ≤ 10 ms)" : ""}`);

  let perSecond: number | undefined;
  if (label === "postgres") {
    const total = N * 2;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < total) {
          const i = next++;
          await viaLaunch(launch(10_000 + i).ltik);
        }
      }),
    );
    perSecond = total / ((performance.now() - t0) / 1000);
    say(`${label}: ${perSecond.toFixed(0)} launches/s with 16 concurrent clients over ${total} launches (target ≥ 250)`);
  }
  say(`${label}: RSS of next start after the launches ${rssMb(server.pid).toFixed(0)} MB`);
  await server.stop();
  await emu.close();
  return { added: added.median, perSecond };
}

const lines: string[] = [];
/** A figure, with the machine's load beside it. */
const say = (s: string) => {
  const line = `${s}   [${load()}]`;
  lines.push(line);
  console.log(line);
};

const pgDb = await freshDatabase("gradesync_bench_launch");
try {
  const handle = await openDatabase({ driver: "node-postgres", url: pgDb.url }, { migrate: true });
  await handle.close();
  const onPg = await measure("postgres", { DATABASE_URL: pgDb.url });
  const dir = mkdtempSync(path.join(os.tmpdir(), "gradesync-bench-"));
  try {
    const onLite = await measure("pglite", { PGLITE_DIR: path.join(dir, "pglite") });
    say(`ratio pglite/postgres of the added median: ${(onLite.added / onPg.added).toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} finally {
  await cleanup();
}
console.log("\nsummary:\n" + lines.join("\n"));
