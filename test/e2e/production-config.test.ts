/**
 * `next start` in production: a bad environment stops the server before it serves anything, with one
 * line per variable and no secret's value; the bundled emulator is served only when asked for.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { freePort, startNext } from "../support/next-server";

const root = path.resolve(import.meta.dirname, "../..");
const dataDir = mkdtempSync(path.join(os.tmpdir(), "gradesync-prod-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function runUntilExit(env: Record<string, string>, port: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "start", "-p", String(port)], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", ...env },
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

it("refuses to start on a bad environment, naming each variable and printing no value", async () => {
  const badSecret = "short-secret-value";
  const { code, output } = await runUntilExit(
    { SESSION_SECRET: badSecret, LTIAAS_URL: "http://ltiaas.example.com", PGLITE_DIR: path.join(dataDir, "refused") },
    await freePort(),
  );
  expect(code).toBe(1);
  for (const line of ["LTIAAS_URL must use https", "LTIAAS_API_KEY is required", "ENCRYPTION_KEYS is required", "SESSION_SECRET must be at least 32"]) {
    expect(output).toContain(line);
  }
  expect(output).not.toContain(badSecret);
  expect(output).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
});

it("serves the emulator in production only with GRADESYNC_EMULATOR=1", async () => {
  const secrets = {
    ENCRYPTION_KEYS: Buffer.alloc(32, 5).toString("base64url"),
    SESSION_SECRET: "production-session-secret-of-enough-length",
    LTIAAS_API_KEY: "prod-api-key",
  };
  const plain = await startNext({ ...secrets, LTIAAS_URL: "https://school.ltiaas.com", PGLITE_DIR: path.join(dataDir, "plain") });
  try {
    expect((await fetch(`${plain.url}/emulator/lms`)).status).toBe(404);
    expect((await fetch(`${plain.url}/emulator/api/idtoken`)).status).toBe(404);
  } finally {
    await plain.stop();
  }
  const demo = await startNext({ ...secrets, GRADESYNC_EMULATOR: "1", PGLITE_DIR: path.join(dataDir, "demo") });
  try {
    const page = await fetch(`http://127.0.0.1:${demo.port}/emulator/lms`);
    expect(page.status).toBe(200);
    expect(await page.text()).not.toContain(secrets.LTIAAS_API_KEY);
  } finally {
    await demo.stop();
  }
});

// Inngest's SDK checks no signature in dev mode, signing key or not: a production server in dev mode
// would let anyone record a grade through /api/inngest and have it sent with the stored serviceKey.
it("refuses to start in production with INNGEST_DEV set, with a signing key or without", async () => {
  const complete = {
    ENCRYPTION_KEYS: Buffer.alloc(32, 6).toString("base64url"),
    SESSION_SECRET: "production-session-secret-of-enough-length",
    LTIAAS_URL: "https://school.ltiaas.com",
    LTIAAS_API_KEY: "prod-api-key",
  };
  const signingKey = "signkey-prod-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  const settings: Record<string, string>[] = [{ INNGEST_DEV: "1" }, { INNGEST_DEV: "1", INNGEST_SIGNING_KEY: signingKey, INNGEST_EVENT_KEY: "evt" }];
  for (const inngest of settings) {
    const { code, output } = await runUntilExit({ ...complete, ...inngest, PGLITE_DIR: path.join(dataDir, "inngest-dev") }, await freePort());
    expect(code).toBe(1);
    expect(output).toContain("INNGEST_DEV must not be set in production");
    expect(output).not.toContain(signingKey);
  }
});
