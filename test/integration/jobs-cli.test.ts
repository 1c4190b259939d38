import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lockFileFor } from "@/lib/db/lock";
import { TEST_KEYS } from "../support/env";

const root = path.resolve(import.meta.dirname, "../..");

function runCli(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "scripts/job.ts", ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NODE_ENV: "development", ENCRYPTION_KEYS: TEST_KEYS.encryption[0], SESSION_SECRET: TEST_KEYS.session, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
}

describe("npm run job", () => {
  it("refuses clearly (exit 1, no stack trace) when a running dev server holds the PGlite directory", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "gs-cli-"));
    const dataDir = path.join(dir, "pglite");
    try {
      // This test process plays the dev server: a live pid owns the lock.
      writeFileSync(lockFileFor(dataDir), String(process.pid));
      const r = runCli(["push-grades"], { PGLITE_DIR: dataDir, LTIAAS_URL: "http://127.0.0.1:9/emulator", LTIAAS_API_KEY: "k" });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/open in another process/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs a push on an empty database, prints the summary as JSON, exits 0", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "gs-cli-"));
    try {
      const r = runCli(["push-grades", "--json"], { PGLITE_DIR: path.join(dir, "pglite"), LTIAAS_URL: "http://127.0.0.1:9/emulator", LTIAAS_API_KEY: "k" });
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ kind: "push-grades", outcome: "completed", counts: { sent: 0, pending: 0 } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
