/**
 * Dev server soak (not part of `npm test`, not a `*.bench.ts`): does `npm run dev` ever reload pages
 * by itself? On a fresh clone of this repository (HEAD of the current branch, or `--ref <branch>`;
 * node_modules hard-linked — Turbopack refuses a symlink) it starts `next dev` several times in a row
 * (the first start on a clean .next and .data, the others on what the previous one left, as a
 * developer restarts it), and each time, in Chromium through the LMS simulator: launches as a teacher,
 * launches as a learner, takes the quiz (again, when the learner already has a result), then waits a
 * while doing nothing. It counts the documents the tool's frame loaded for each step — one per
 * navigation is right, more means the dev server reloaded the page — and what the server printed
 * about recompiling. Prints one line per start and exits 1 if any start reloaded a page or lost the
 * quiz submission.
 *
 *   npx tsx test/bench/dev-soak.ts [--runs 4] [--ref main] [--idle 15] [--think 0]
 *
 * --think: seconds a newcomer spends on the simulator page before launching (the pages compile in
 * the background meanwhile). For experiments: --keep keeps the clone, --dir <clone> soaks it again,
 * PGLITE_DIR is handed to the server, SOAK_LOG=<file> writes each start's output to <file>.<n>.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { chromium, type Browser, type Frame, type FrameLocator, type Page } from "playwright-core";
import { demoQuiz } from "../e2e/support/quiz";
import { startNextDev, type DevServer } from "../support/next-dev";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "4" },
    ref: { type: "string" },
    idle: { type: "string", default: "15" },
    think: { type: "string", default: "0" },
    // For experiments: soak a clone made earlier (kept with --keep) instead of a new one.
    dir: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const runs = Number(args.runs);
const idleMs = Number(args.idle) * 1000;
const root = path.resolve(import.meta.dirname, "../..");

const dir = args.dir ? path.resolve(args.dir) : mkdtempSync(path.join(os.tmpdir(), "gradesync-soak-"));
let server: DevServer | undefined;
let browser: Browser | undefined;
const cleanUp = async () => {
  await browser?.close().catch(() => undefined);
  await server?.stop();
  if (!args.keep && !args.dir) rmSync(dir, { recursive: true, force: true });
};
process.once("SIGINT", () => void cleanUp().finally(() => process.exit(130)));
process.once("SIGTERM", () => void cleanUp().finally(() => process.exit(143)));

interface RunResult {
  run: number;
  readyS: number;
  firstSimulatorS: number;
  teacherS: number;
  loads: Record<string, number>;
  idleLoads: number;
  quizSaved: boolean;
  recompiles: number;
  reloadMessages: number;
}

/** Documents the tool's frame loaded (not the LMS page, not its self-refreshing panel); a redirect's hops count once. */
function countToolDocuments(page: Page): { count(): number } {
  let count = 0;
  page.context().on("response", (res) => {
    const req = res.request();
    const redirect = res.status() >= 300 && res.status() < 400;
    if (req.isNavigationRequest() && !redirect && req.frame() !== page.mainFrame() && new URL(req.url()).hostname === "localhost") count++;
  });
  return { count: () => count };
}

async function toolFrame(page: Page): Promise<Frame> {
  for (;;) {
    const frame = page.frames().find((f) => f !== page.mainFrame() && new URL(f.url() || "about:blank").hostname === "localhost");
    if (frame) return frame;
    await page.waitForTimeout(100);
  }
}

async function launch(page: Page, base: string, query: Record<string, string>): Promise<FrameLocator> {
  await page.goto(`${base}/emulator/lms/launch?${new URLSearchParams({ lineItem: "with", ...query })}`, { timeout: 300_000 });
  return page.frameLocator("iframe.tool");
}

/** Waits until React owns the frame's first form, so a click runs the action in place. */
async function hydrated(tool: FrameLocator): Promise<void> {
  const deadline = Date.now() + 300_000;
  const form = tool.locator("form").first();
  while (!(await form.evaluate((el) => Object.keys(el).some((k) => k.startsWith("__reactFiber"))))) {
    if (Date.now() > deadline) throw new Error("the quiz form never hydrated");
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function soakOnce(run: number, b: Browser): Promise<RunResult> {
  const started = performance.now();
  const seconds = () => Number(((performance.now() - started) / 1000).toFixed(1));
  server = await startNextDev(dir, { NODE_ENV: "development", ...(process.env.PGLITE_DIR ? { PGLITE_DIR: process.env.PGLITE_DIR } : {}) });
  const readyS = seconds();
  const context = await b.newContext();
  const page = await context.newPage();
  const docs = countToolDocuments(page);
  let reloadMessages = 0;
  page.on("console", (m) => {
    if (/reload/i.test(m.text())) reloadMessages++;
  });
  const loads: Record<string, number> = {};
  const step = async (name: string, body: () => Promise<void>) => {
    const before = docs.count();
    await body();
    await page.waitForTimeout(1_000);
    loads[name] = docs.count() - before;
  };

  await page.goto(`${server.url}/emulator/lms`, { timeout: 300_000 });
  const firstSimulatorS = seconds();
  await page.waitForTimeout(Number(args.think) * 1000);

  let teacherS = 0;
  await step("teacher", async () => {
    const tool = await launch(page, server!.url, { link: "bio101-quiz", user: "u-ada", role: "Instructor" });
    await tool.getByRole("button", { name: "Sync now" }).waitFor({ timeout: 300_000 });
    teacherS = seconds();
  });

  let tool!: FrameLocator;
  await step("learner", async () => {
    tool = await launch(page, server!.url, { link: "bio101-quiz", user: "u-katherine", role: "Learner" });
    await tool.locator("h1").waitFor({ timeout: 300_000 });
  });
  const retake = tool.getByRole("link", { name: "Take the quiz again" });
  if (await retake.count()) await step("retake", () => retake.click().then(() => tool.locator("h2#quiz").waitFor({ timeout: 300_000 })));
  let quizSaved = false;
  await step("submit", async () => {
    await hydrated(tool);
    const frame = await toolFrame(page);
    for (const q of demoQuiz("bio101-quiz").questions) await frame.locator(`input[name="${q.id}"][value="${q.answer}"]`).check();
    await tool.getByRole("button", { name: "Submit answers" }).click();
    quizSaved = await tool
      .locator(".result .score")
      .waitFor({ timeout: 120_000 })
      .then(() => true)
      .catch(() => false);
  });
  const beforeIdle = docs.count();
  await page.waitForTimeout(idleMs);
  const idleLoads = docs.count() - beforeIdle;
  await context.close();

  const recompiles = (server.output().match(/Compiled in/g) ?? []).length;
  if (process.env.SOAK_LOG) writeFileSync(`${process.env.SOAK_LOG}.${run}`, server.output());
  await server.stop();
  server = undefined;
  return { run, readyS, firstSimulatorS, teacherS, loads, idleLoads, quizSaved, recompiles, reloadMessages };
}

try {
  if (!args.dir) {
    execFileSync("git", ["clone", "--quiet", ...(args.ref ? ["--branch", args.ref] : []), root, dir]);
    execFileSync("cp", ["-al", path.join(root, "node_modules"), path.join(dir, "node_modules")]);
  }
  console.log(`dev soak: ${runs} starts of next dev in ${dir} (${args.ref ?? "HEAD"}), idle ${idleMs / 1000} s after the quiz`);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  let bad = 0;
  for (let run = 1; run <= runs; run++) {
    const r = await soakOnce(run, browser);
    const extra = Object.values(r.loads).reduce((n, l) => n + Math.max(0, l - 1), 0) + r.idleLoads;
    if (extra > 0 || !r.quizSaved) bad++;
    const steps = Object.entries(r.loads)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    console.log(
      `start ${run}: ready ${r.readyS} s, simulator ${r.firstSimulatorS} s, teacher page ${r.teacherS} s | tool documents: ${steps}, idle ${r.idleLoads} | ` +
        `quiz ${r.quizSaved ? "saved" : "LOST"} | "Compiled in" ×${r.recompiles}, reload messages ×${r.reloadMessages}`,
    );
  }
  console.log(bad ? `${bad} of ${runs} starts reloaded a page or lost the quiz` : `no reloads in ${runs} starts (at most one document per navigation)`);
  process.exitCode = bad ? 1 : 0;
} finally {
  await cleanUp();
}
