/**
 * `npm run dev` must not reload pages by itself. The embedded database writes under `.data/` in the
 * project root (PGLITE_DIR's default, which the contract fixes) while `next dev` watches that root;
 * with Turbopack's filesystem cache for development, a restart's first compiles, when they ran while
 * the database wrote, announced changes nobody made: `✓ Compiled in 5ms` after requests, the page
 * reloaded ("HMR hash mismatch"), and a learner's quiz submission was lost.
 *
 * On a copy of this working tree (node_modules hard-linked: Turbopack refuses a symlink) it starts
 * `next dev` once to fill .next and .data as a developer's first day would, then again, and in
 * Chromium, through the LMS simulator, launches as a teacher and as a learner while files are written under
 * `.data/`, then writes more with the page open: no recompile is printed and the tool's frame loads one document.
 * Needs /usr/bin/chromium; no build.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNextDev, type DevServer } from "../support/next-dev";
import { launchBrowser } from "./support/browser";

const root = path.resolve(import.meta.dirname, "../..");
let dir: string;
let server: DevServer | undefined;
let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "gradesync-dev-"));
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" }).split("\0").filter(Boolean);
  for (const file of files) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    try {
      cpSync(path.join(root, file), path.join(dir, file));
    } catch {
      /* deleted in the working tree */
    }
  }
  execFileSync("cp", ["-al", path.join(root, "node_modules"), path.join(dir, "node_modules")]);
  browser = await launchBrowser();
  // A first start, as on a developer's first day: it compiles the pages, creates the database and
  // fills Turbopack's caches; the teacher and a learner launch in the browser.
  const first = await startNextDev(dir);
  const page = await browser.context.newPage();
  await page.goto(`${first.url}/emulator/lms/launch?link=bio101-quiz&user=u-ada&role=Instructor&lineItem=with`, { timeout: 300_000 });
  await page.frameLocator("iframe.tool").getByRole("button", { name: "Sync now" }).waitFor({ timeout: 300_000 });
  await page.goto(`${first.url}/emulator/lms/launch?link=bio101-quiz&user=u-katherine&role=Learner&lineItem=with`, { timeout: 300_000 });
  await page.frameLocator("iframe.tool").locator("h1").waitFor({ timeout: 300_000 });
  await page.close();
  await first.stop();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Documents the tool's frame loaded (a redirect's hops count once). */
function countToolDocuments(page: Page): () => number {
  let count = 0;
  page.on("response", (res) => {
    const req = res.request();
    const redirect = res.status() >= 300 && res.status() < 400;
    if (req.isNavigationRequest() && !redirect && req.frame() !== page.mainFrame() && new URL(req.url()).hostname === "localhost") count++;
  });
  return () => count;
}

/** Keeps writing under .data/ (new files, rewrites, renames — what a database does) until stopped. */
function writeUnderData(): () => void {
  const probe = path.join(dir, ".data", "probe");
  mkdirSync(probe, { recursive: true });
  let i = 0;
  const timer = setInterval(() => {
    for (let k = 0; k < 20; k++, i++) {
      writeFileSync(path.join(probe, `page-${i % 50}`), `${i}`.repeat(512));
      writeFileSync(path.join(dir, ".data", `probe.${i % 3}.tmp`), String(i));
    }
  }, 50);
  return () => clearInterval(timer);
}

describe("next dev with the embedded database under .data/", () => {
  // The loop is intermittent (it needs a restart's first compiles to race the database's writes):
  // what made it possible is checked directly too.
  it("keeps no Turbopack filesystem cache for a restart to restore", () => {
    const cache = path.join(dir, ".next", "dev", "cache", "turbopack");
    const entries = existsSync(cache) ? readdirSync(cache, { recursive: true }) : [];
    expect(entries.filter((f) => String(f).endsWith(".sst"))).toEqual([]);
  });

  it("a restart neither recompiles nor reloads the page when files under .data/ change", async () => {
    server = await startNextDev(dir);
    const page = await browser!.context.newPage();
    const documents = countToolDocuments(page);
    const stopWriting = writeUnderData();
    try {
      await page.goto(`${server.url}/emulator/lms/launch?link=bio101-quiz&user=u-ada&role=Instructor&lineItem=with`, { timeout: 300_000 });
      await page.frameLocator("iframe.tool").getByRole("button", { name: "Sync now" }).waitFor({ timeout: 300_000 });
      await page.goto(`${server.url}/emulator/lms/launch?link=bio101-quiz&user=u-katherine&role=Learner&lineItem=with`, { timeout: 300_000 });
      await page.frameLocator("iframe.tool").locator("h1").waitFor({ timeout: 300_000 });
      // With the page open and its hot-reload socket connected, the database keeps writing.
      await page.waitForTimeout(15_000);
    } finally {
      stopWriting();
    }
    await page.waitForTimeout(3_000);
    expect(server.output()).not.toMatch(/Compiled in/);
    // Two launches, one document each.
    expect(documents()).toBe(2);
    await page.close();
  });
});
