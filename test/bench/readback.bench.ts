/**
 * Issue #9's read-back figures: the push of the sync engine with read-back on vs off, side by side in
 * one run, through the INLINE runner on Postgres (a database of its own), against the emulator in a
 * child process at 50 ms latency, 2 requests in flight per platform over 10 platforms.
 *  (a) nothing sent before, to a line item Gradesync created: the read is skipped — the protection
 *      must cost under 10% (time on ÷ time off < 1.10);
 *  (b) sent before (every learner has an LMS result, new scores for all): under one result page per
 *      50 learners; the time ratio and result reads per learner printed — for classes of 40 (the sync
 *      bench's shape: a page per class is the least it can read) and of 250 (pages of 100, 3 chunks).
 * On and off alternate which goes first, BENCH_READBACK_TRIALS times (default 3); the medians are
 * compared. Each figure carries the machine's load average: other work shares the cores.
 *
 *   npm run bench readback
 */
import { RESULTS_PAGE } from "../../lib/grades/readback";
import { cpuMinus, fmt, load, median, minus, sleep, startHarness, type CpuUse, type Harness, type Link, type SeedSpec } from "./gradebook-harness";

const PLATFORMS = 10;
const LATENCY = 50;
const CONCURRENCY = 2;
const TRIALS = Number(process.env.BENCH_READBACK_TRIALS ?? 3);
const LMS_PAGE = Number(process.env.BENCH_LMS_PAGE ?? RESULTS_PAGE);
const PAGE = Math.min(RESULTS_PAGE, LMS_PAGE);

interface Shape {
  name: string;
  contexts: number;
  learners: number;
}
const A: Shape = { name: "a", contexts: 5, learners: 40 };
const B: Shape[] = [
  { name: "b40", contexts: 5, learners: 40 },
  { name: "b250", contexts: 1, learners: 250 },
];
const modes = ["on", "off"] as const;
type Mode = (typeof modes)[number];

const spec: SeedSpec[] = [
  // (a) needs line items never written to: a fresh set for every push.
  ...Array.from({ length: TRIALS }, (_, t) => modes.map((m) => ({ prefix: `a${t}${m}`, platforms: PLATFORMS, contexts: A.contexts, learners: A.learners }))).flat(),
  ...B.flatMap((s) => modes.map((m) => ({ prefix: `${s.name}${m}`, platforms: PLATFORMS, contexts: s.contexts, learners: s.learners }))),
];
const h = await startHarness("gs_bench_readback", spec, CONCURRENCY);

interface Measured {
  seconds: number;
  sent: number;
  overridden: number;
  resultPages: number;
  resultUsers: number;
  scores: number;
  cpu: CpuUse;
}

async function push(h: Harness, links: Link[], mode: Mode): Promise<Measured> {
  const before = { ...h.requests };
  const cpu0 = h.cpu();
  const t0 = performance.now();
  const run = await h.run("push-grades", { contextRefs: links.map((l) => l.contextRef) }, { push: { readBack: mode === "on" } });
  const seconds = (performance.now() - t0) / 1000;
  const used = minus(h.requests, before);
  const cpu = cpuMinus(h.cpu(), cpu0);
  const c = run.counts as Record<string, number>;
  return { cpu, seconds, sent: c.sent ?? 0, overridden: c.overridden ?? 0, resultPages: used.resultPages, resultUsers: used.resultUsers, scores: used.scores };
}

const line = (label: string, m: Measured, learners: number) =>
  `${label}: ${fmt(m.seconds)} s, sent ${m.sent}, overridden ${m.overridden}, result pages ${m.resultPages}, by user ${m.resultUsers} → ${fmt((m.resultPages + m.resultUsers) / learners, 4)} reads per learner; CPU pipeline ${fmt(m.cpu.node)} s + Postgres ${fmt(m.cpu.postgres)} s — ${load()}`;

try {
  await h.tell(`faults ${JSON.stringify({ lineItemPageSize: LMS_PAGE })}`);
  const ideal = (n: number) => n / ((PLATFORMS * CONCURRENCY) / (LATENCY / 1000));

  // (b)'s sets: every learner's score sent once before (no latency, read-back off: only setting up).
  const bLinks = new Map<string, Link[]>();
  await h.tell("latency 0");
  for (const s of B)
    for (const m of modes) {
      const links = await h.seed(`${s.name}${m}`);
      await h.record(links, s.learners, (i) => i % 10);
      const prep = await h.run("push-grades", { contextRefs: links.map((l) => l.contextRef) }, { push: { readBack: false } });
      if (prep.counts.sent !== links.length * s.learners) throw new Error(`prepare ${s.name}${m}: sent ${prep.counts.sent}`);
      bLinks.set(`${s.name}${m}`, links);
    }
  await h.tell(`latency ${LATENCY}`);

  // (a) nothing sent before, a line item Gradesync created.
  const a: Record<Mode, Measured[]> = { on: [], off: [] };
  const total = PLATFORMS * A.contexts * A.learners;
  for (let t = 0; t < TRIALS; t++) {
    const order: Mode[] = t % 2 ? ["off", "on"] : ["on", "off"];
    for (const m of order) {
      const links = await h.seed(`a${t}${m}`, { created: true });
      await h.record(links, A.learners, (i) => i % 10);
      const r = await push(h, links, m);
      a[m].push(r);
      h.say(line(`[a ${t + 1}/${TRIALS} read-back ${m}] ${total} scores, nothing sent before, line item Gradesync created`, r, total));
    }
  }
  const aOn = median(a.on.map((r) => r.seconds));
  const aOff = median(a.off.map((r) => r.seconds));
  const ownCpu = (r: Measured) => r.cpu.node + r.cpu.postgres;
  const aCpu = median(a.on.map(ownCpu)) / median(a.off.map(ownCpu));
  h.say(
    `[a] nothing sent before: on ${fmt(aOn)} s vs off ${fmt(aOff)} s (ideal ${fmt(ideal(total))} s) → on ÷ off ${fmt(aOn / aOff, 3)} (target < 1.10); ` +
      `CPU (pipeline + Postgres) on ÷ off ${fmt(aCpu, 3)}; ` +
      `result reads with read-back on ${a.on.reduce((n, r) => n + r.resultPages + r.resultUsers, 0)} in ${TRIALS} pushes (a skipped read makes none) — ${load()}`,
  );

  // (b) sent before: new scores for every learner, pushed over what the LMS holds.
  for (const s of B) {
    const n = PLATFORMS * s.contexts * s.learners;
    const links = PLATFORMS * s.contexts;
    const b: Record<Mode, Measured[]> = { on: [], off: [] };
    for (let t = 0; t < TRIALS; t++) {
      // A new second for the new scores (their times are sent; a same-second timestamp is refused by some LMSs).
      await sleep(1100);
      for (const m of modes) await h.record(bLinks.get(`${s.name}${m}`)!, s.learners, (i) => ((i + t + 1) % 10) + 0.5);
      const order: Mode[] = t % 2 ? ["off", "on"] : ["on", "off"];
      for (const m of order) {
        const r = await push(h, bLinks.get(`${s.name}${m}`)!, m);
        b[m].push(r);
        h.say(line(`[${s.name} ${t + 1}/${TRIALS} read-back ${m}] ${n} scores over ${links} links of ${s.learners}, all sent before`, r, n));
      }
    }
    const on = median(b.on.map((r) => r.seconds));
    const off = median(b.off.map((r) => r.seconds));
    const reads = median(b.on.map((r) => r.resultPages + r.resultUsers));
    const cpuRatio = median(b.on.map((r) => r.cpu.node + r.cpu.postgres)) / median(b.off.map((r) => r.cpu.node + r.cpu.postgres));
    const least = links * Math.ceil(s.learners / PAGE);
    h.say(
      `[${s.name}] sent before, classes of ${s.learners}: on ${fmt(on)} s vs off ${fmt(off)} s (ideal ${fmt(ideal(n + least))} s) → on ÷ off ${fmt(on / off, 3)}, CPU (pipeline + Postgres) on ÷ off ${fmt(cpuRatio, 3)}; ` +
        `result reads ${reads} for ${n} learners → ${fmt(reads / n, 4)} per learner = 1 per ${fmt(n / reads, 1)} (target: under 1 per 50; ` +
        `the least at pages of ${PAGE}: ${least}, 1 per ${fmt(n / least, 1)}) — ${load()}`,
    );
  }
} catch (error) {
  await h.abort(error);
}
await h.finish();
