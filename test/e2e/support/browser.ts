/** Debian's Chromium through playwright-core, with third-party cookies blocked as browsers now do. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type FrameLocator, type Page } from "playwright-core";
import { expect } from "vitest";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gradesync-chromium-"));
  mkdirSync(path.join(dir, "Default"), { recursive: true });
  // cookie_controls_mode 1 = "block third-party cookies" in Chrome's settings.
  writeFileSync(path.join(dir, "Default", "Preferences"), JSON.stringify({ profile: { cookie_controls_mode: 1, block_third_party_cookies: true } }));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 } });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const ARTIFACTS = path.resolve(import.meta.dirname, "../../../test-results/e2e");

/** Waits until React owns the page's forms, so a click runs the action in place (a click before that posts the form as plain HTML, which works too but reloads). */
export async function hydrated(scope: Page | FrameLocator): Promise<void> {
  await expect
    .poll(() => scope.locator("form").first().evaluate((el) => Object.keys(el).some((k) => k.startsWith("__reactFiber"))), { timeout: 15_000 })
    .toBe(true);
}

/** A full-page screenshot into the artifacts folder. */
export const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
