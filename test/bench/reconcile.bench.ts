/**
 * Issue #9's reconcile figures, through the INLINE runner on Postgres (a database of its own), against
 * the emulator in a child process: 100 links (10 platforms × 10 contexts, one link each) × 100
 * learners, every row sent before, at 50 ms latency, 2 requests in flight per platform.
 *  - time of a reconcile run vs the ideal for the result pages it must read:
 *    pages = links × ⌈learners ÷ page⌉, ideal = pages ÷ (platforms × 2 ÷ 0.05 s);
 *  - requests per link (counted at the client, and the emulator's count beside it).
 * The page is what Gradesync asks for (RESULTS_PAGE), cut to the LMS's cap (BENCH_LMS_PAGE, default
 * the same). Beside them: the same pages read by a bare loop of the client (what this machine allows
 * any reader), the reconcile at zero latency (our own work), and the CPU each process used. Each
 * figure carries the machine's load average: other work shares the cores.
 * BENCH_SQL_TIMES=1 adds statement times by kind; BENCH_CPU_PROF=dir profiles the reconciles.
 *
 *   npm run bench reconcile            BENCH_LMS_PAGE=50 npm run bench reconcile
 */
import { RESULTS_PAGE } from "../../lib/grades/readback";
import { ltiaas } from "../../lib/ltiaas";
import { cpuLine, cpuMinus, fmt, load, median, minus, profiled, startHarness, statementReport } from "./gradebook-harness";

const PLATFORMS = 10;
const CONTEXTS = 10;
const LEARNERS = 100;
const LATENCY = 50;
const CONCURRENCY = 2;
const RUNS = Number(process.env.BENCH_RECONCILE_RUNS ?? 3);
const LMS_PAGE = Number(process.env.BENCH_LMS_PAGE ?? RESULTS_PAGE);
const PAGE = Math.min(RESULTS_PAGE, LMS_PAGE);

const h = await startHarness("gs_bench_reconcile", [{ prefix: "r", platforms: PLATFORMS, contexts: CONTEXTS, learners: LEARNERS }], CONCURRENCY);
try {
  await h.tell(`faults ${JSON.stringify({ lineItemPageSize: LMS_PAGE })}`);
  const links = await h.seed("r");
  await h.record(links, LEARNERS, (i) => i % 10);
  // Every row sent first (quickly, without latency): a reconcile reads what was sent.
  await h.tell("latency 0");
  const prep = await h.run("push-grades", {}, { push: { readBack: false } });
  if (prep.counts.sent !== links.length * LEARNERS) throw new Error(`prepare: sent ${prep.counts.sent} of ${links.length * LEARNERS}`);

  await h.tell(`latency ${LATENCY}`);
  const pages = links.length * Math.ceil(LEARNERS / PAGE);
  const ideal = pages / ((PLATFORMS * CONCURRENCY) / (LATENCY / 1000));
  const times: number[] = [];
  // With BENCH_CPU_PROF=dir, the reconciles alone are profiled (summary: test/bench/profile-summary.ts).
  await profiled("reconcile", async () => {
    for (let i = 1; i <= RUNS; i++) {
      const before = { ...h.requests };
      const emuBefore = await h.emulatorRequests();
      const cpu0 = h.cpu();
      const t0 = performance.now();
      const run = await h.run("reconcile", {});
      const seconds = (performance.now() - t0) / 1000;
      const cpu = cpuMinus(h.cpu(), cpu0);
      const emu = (await h.emulatorRequests()) - emuBefore;
      const used = minus(h.requests, before);
      const total = used.resultPages + used.resultUsers + used.scores + used.lineItems;
      times.push(seconds);
      const c = run.counts as Record<string, number>;
      h.say(
        `[reconcile ${i}/${RUNS}] ${links.length} links × ${LEARNERS} learners @ ${LATENCY} ms, ${CONCURRENCY} in flight × ${PLATFORMS} platforms, page ${PAGE}: ` +
          `${fmt(seconds)} s; ideal ${fmt(ideal)} s (${pages} pages) → ideal ÷ time ${fmt(ideal / seconds)}; ` +
          `requests per link ${fmt(total / links.length)} (result pages ${used.resultPages}, by user ${used.resultUsers}, scores ${used.scores}, line items ${used.lineItems}; emulator counted ${emu}); ` +
          `in sync ${c.inSync ?? 0}, differs ${c.differs ?? 0}, missing ${c.missing ?? 0}, unread ${c.unread ?? 0}; ${run.outcome}; ` +
          `requests in flight on average ${fmt(used.busyMs / 1000 / seconds, 1)} of ${PLATFORMS * CONCURRENCY}; ${cpuLine(cpu)} — ${load()}`,
      );
    }
  });
  const stats = JSON.parse(await h.tell("stats")) as { inFlightMax: Record<string, number> };
  // The same pages read by a bare loop of the client, 2 at a time per platform, nothing else done:
  // what this machine lets any reader reach (the ideal counts the LMS's latency alone).
  const client = ltiaas();
  const readEvery = async (l: (typeof links)[number]) => {
    let page = await client.listResultsPage({ serviceKey: l.serviceKey }, l.lineItemId, { limit: RESULTS_PAGE });
    while (page.next) page = await client.listResultsPage({ serviceKey: l.serviceKey }, l.lineItemId, { url: page.next });
  };
  const byPlatform = new Map<string, typeof links>();
  for (const l of links) byPlatform.set(l.platformId, [...(byPlatform.get(l.platformId) ?? []), l]);
  let t1 = performance.now();
  await Promise.all(
    [...byPlatform.values()].flatMap((mine) => {
      const queue = [...mine];
      return Array.from({ length: CONCURRENCY }, async () => {
        for (let l = queue.shift(); l; l = queue.shift()) await readEvery(l);
      });
    }),
  );
  const bare = (performance.now() - t1) / 1000;
  t1 = performance.now();
  for (const l of links.slice(0, 10)) await readEvery(l);
  const one = (performance.now() - t1) / 10 / Math.ceil(LEARNERS / PAGE);
  h.say(
    `[bare loop] the same ${pages} pages, ${CONCURRENCY} at a time per platform: ${fmt(bare)} s → ideal ÷ bare ${fmt(ideal / bare)}, reconcile median ÷ bare ${fmt(median(times) / bare)}; ` +
      `one page alone ${fmt(one, 0)} ms — ${load()}`,
  );
  // The same at zero latency: what is left is our own work (CPU, database), not the LMS's.
  await h.tell("latency 0");
  if (process.env.BENCH_SQL_TIMES) statementReport();
  const cpu0 = h.cpu();
  const t0 = performance.now();
  await h.run("reconcile", {});
  const own = (performance.now() - t0) / 1000;
  const cpu = cpuMinus(h.cpu(), cpu0);
  if (process.env.BENCH_SQL_TIMES) console.log(`statements of the zero-latency reconcile (time from asking the pool to the answer, added up):\n${statementReport()}`);
  h.say(`[reconcile] the same at zero latency: ${fmt(own)} s → ${fmt(links.length / own, 0)} links/s (our CPU and database); ${cpuLine(cpu)} — ${load()}`);
  h.say(
    `[reconcile] median ${fmt(median(times))} s vs ideal ${fmt(ideal)} s → ${fmt(ideal / median(times))}; most in flight on a platform ${Math.max(...Object.values(stats.inFlightMax))} (limit ${CONCURRENCY}) — ${load()}`,
  );
} catch (error) {
  await h.abort(error);
}
await h.finish();
