/**
 * What every browser test stands on: the emulator (LTIAAS + its LMS page) on 127.0.0.1, the built
 * tool under `next start` on localhost — another site — with its own PGlite, and Chromium with
 * third-party cookies blocked.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BrowserContext, FrameLocator, Page } from "playwright-core";
import { startEmulatorServer, type EmulatorServer } from "@/lib/emulator/server";
import { freePort, startNext, type NextServer } from "../../support/next-server";
import { ARTIFACTS, launchBrowser } from "./browser";

export interface Stack {
  emu: EmulatorServer;
  app: NextServer;
  browser: { context: BrowserContext; close(): Promise<void> };
  secrets: { apiKey: string; encryptionKey: string; sessionSecret: string };
  close(): Promise<void>;
}

export async function startStack(name: string, env: Record<string, string> = {}): Promise<Stack> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `gradesync-e2e-${name}-`));
  const secrets = {
    apiKey: `e2e-${name}-api-key`,
    encryptionKey: Buffer.alloc(32, name.length).toString("base64url"),
    sessionSecret: `e2e-${name}-session-secret-with-at-least-32-chars`,
  };
  const port = await freePort();
  const emu = await startEmulatorServer({ apiKey: secrets.apiKey, host: "127.0.0.1", toolUrl: `http://localhost:${port}` });
  const app = await startNext(
    {
      LTIAAS_URL: emu.url,
      LTIAAS_API_KEY: secrets.apiKey,
      ENCRYPTION_KEYS: secrets.encryptionKey,
      SESSION_SECRET: secrets.sessionSecret,
      PGLITE_DIR: path.join(dataDir, "pglite"),
      ...env,
    },
    { port },
  );
  const browser = await launchBrowser();
  return {
    emu,
    app,
    browser,
    secrets,
    close: async () => {
      writeFileSync(path.join(ARTIFACTS, `${name}-server.log`), app.output());
      await browser.close();
      await app.stop();
      await emu.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Opens the emulator's LMS course page launching the tool; returns the tool's iframe. */
export async function lmsLaunch(stack: Pick<Stack, "emu">, page: Page, query: Record<string, string>): Promise<FrameLocator> {
  await page.goto(`${stack.emu.url}/lms/launch?${new URLSearchParams({ lineItem: "with", ...query })}`);
  return page.frameLocator("iframe.tool");
}
