/**
 * Issue #10's HTTP figure: how many score POSTs per second each way of sending gets through to one
 * local sink (another process, answering 204) at 20 in flight, with score-sized JSON bodies and an
 * LTIAAS-sized Authorization header. Side by side in one run, rounds interleaved so every contender
 * sees the same machine: the global fetch, undici's `request` with an Agent and with a Pool,
 * node:http with a keep-alive agent, and the LTIAAS client itself over its default transport and
 * over the global fetch (what it used before). Printed as rates and as ratios to fetch, with the
 * machine's load (other work shares these cores). The sync bench's own-cost figure divides by the
 * same kind of bare undici loop.
 *
 *   npm run bench http      (BENCH_HTTP_REQUESTS per round, default 5,000; BENCH_HTTP_ROUNDS, default 3)
 */
import { spawn } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { Agent, Pool, request } from "undici";
import { createLtiaasClient } from "../../lib/ltiaas";
import type { Score } from "../../lib/ltiaas";
import { load, onExit } from "./support";

const REQUESTS = Number(process.env.BENCH_HTTP_REQUESTS ?? 5_000);
const ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 3);
const IN_FLIGHT = 20;
const CONNECTIONS = 32;
const API_KEY = "bench-api-key-0123456789abcdef";
const SERVICE_KEY = `eyJ${"x".repeat(400)}`;
const LINE_ITEM = "https://canvas.example.edu/api/lti/courses/1234/line_items/5678";

const sink = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "sink-lms.ts")], { stdio: ["ignore", "pipe", "inherit"] });
onExit(() => void sink.kill());
const base = await new Promise<string>((resolve) => sink.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim())));
const origin = new URL(base).origin;
const scorePath = `/api/lineitems/${encodeURIComponent(LINE_ITEM)}/scores`;

const score = (i: number): Score => ({
  userId: `learner-${i}`,
  activityProgress: "Completed",
  gradingProgress: "FullyGraded",
  scoreGiven: (i % 100) / 10,
  scoreMaximum: 10,
  comment: "Graded by the course's autograder",
  submission: { startedAt: "2026-11-27T09:00:00.000Z", submittedAt: "2026-11-27T09:41:12.000Z" },
  "https://canvas.instructure.com/lti/submission": { prioritize_non_tool_grade: true, new_submission: true, submitted_at: "2026-11-27T09:41:12.000Z" },
});
const headers = {
  authorization: `SERVICE-AUTH-V1 ${API_KEY}:${SERVICE_KEY}`,
  accept: "application/json",
  "content-type": "application/json",
};

type Send = (i: number) => Promise<void>;

const agent = new Agent({ connections: CONNECTIONS });
const pool = new Pool(origin, { connections: CONNECTIONS });
const nodeAgent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
const clientUndici = createLtiaasClient({ baseUrl: base, apiKey: API_KEY });
const clientFetch = createLtiaasClient({ baseUrl: base, apiKey: API_KEY, fetch: globalThis.fetch });
const auth = { serviceKey: SERVICE_KEY };

function expect204(status: number) {
  if (status !== 204) throw new Error(`sink answered ${status}`);
}

const contenders: [string, Send][] = [
  [
    "global fetch",
    async (i) => {
      const res = await fetch(`${origin}${scorePath}`, { method: "POST", headers, body: JSON.stringify(score(i)) });
      await res.arrayBuffer();
      expect204(res.status);
    },
  ],
  [
    "undici request + Agent",
    async (i) => {
      const res = await request(`${origin}${scorePath}`, { method: "POST", headers, body: JSON.stringify(score(i)), dispatcher: agent });
      await res.body.dump();
      expect204(res.statusCode);
    },
  ],
  [
    "undici request + Pool",
    async (i) => {
      const res = await pool.request({ path: scorePath, method: "POST", headers, body: JSON.stringify(score(i)) });
      await res.body.dump();
      expect204(res.statusCode);
    },
  ],
  [
    "node:http keep-alive",
    (i) =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(`${origin}${scorePath}`, { method: "POST", headers, agent: nodeAgent }, (res) => {
          res.resume();
          res.on("end", () => (res.statusCode === 204 ? resolve() : reject(new Error(`sink answered ${res.statusCode}`))));
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end(JSON.stringify(score(i)));
      }),
  ],
  ["LTIAAS client (undici, default)", (i) => clientUndici.postScore(auth, LINE_ITEM, score(i))],
  ["LTIAAS client over global fetch", (i) => clientFetch.postScore(auth, LINE_ITEM, score(i))],
];

async function run(send: Send, n: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let i = next++; i < n; i = next++) await send(i);
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

try {
  for (const [, send] of contenders) await run(send, 500); // warm-up: JIT, sockets
  const rates = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [name, send] of contenders) rates.get(name)!.push(await run(send, REQUESTS));

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const fetchRate = median(rates.get("global fetch")!);
  console.log(`${REQUESTS} POSTs × ${ROUNDS} rounds per contender, ${IN_FLIGHT} in flight, ≤ ${CONNECTIONS} connections, one sink process (median round)   [${load()}]`);
  for (const [name] of contenders) {
    const rs = rates.get(name)!;
    const m = median(rs);
    console.log(
      `${name.padEnd(34)} ${m.toFixed(0).padStart(6)} POSTs/s  ×${(m / fetchRate).toFixed(2)} fetch   (rounds: ${rs.map((x) => x.toFixed(0)).join(", ")})   [${load()}]`,
    );
  }
} finally {
  await Promise.all([agent.close(), pool.close()]);
  nodeAgent.destroy();
  sink.kill();
}
