/**
 * `npm run job` while the app holds the embedded database: the command runs in the app, through
 * POST /api/jobs/cli, and prints as it would have. The app is this test process: it holds the data
 * directory's lock and serves the route handler behind a small HTTP server (as Next would, filling
 * x-forwarded-for from the socket); the command line is the real one, spawned.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { POST } from "@/app/api/jobs/cli/route";
import { lockFileFor } from "@/lib/db/lock";
import { setEnvForTests } from "@/lib/env";
import { recordScores } from "@/lib/grades/record";
import { formatSummary } from "@/lib/jobs/cli";
import type { InlineRun } from "@/lib/jobs/inline";
import { announceCliEndpoint, endpointFileFor, readEndpoint, withdrawCliEndpoint } from "@/lib/jobs/cli-endpoint";
import { runSummary } from "@/lib/jobs/runs";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { TEST_KEYS, testEnv } from "../support/env";
import { scoresFor, seedTriple } from "../support/seed";

const root = path.resolve(import.meta.dirname, "../..");
const t = useTestDb();
const emu = useEmulator({ resetEach: true });

let dir: string;
let dataDir: string;
let server: Server;
let appUrl: string;
/** Bodies the app was sent, as JSON. */
let received: unknown[];

/** The app's configuration: development, no ADMIN_TOKEN unless given, LTIAAS the emulator. */
const appEnv = (o: Record<string, string | undefined> = {}) => setEnvForTests(testEnv({ LTIAAS_URL: emu.url, ADMIN_TOKEN: undefined, PGLITE_DIR: dataDir, ...o }));

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    if (body.length) received.push(JSON.parse(body.toString("utf8")));
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    if (!headers.has("x-forwarded-for")) headers.set("x-forwarded-for", req.socket.remoteAddress ?? "");
    const answer = await POST(new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers, body: body.length ? body : undefined }));
    res.writeHead(answer.status, { "content-type": "application/json" });
    res.end(await answer.text());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  appUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(async () => {
  await truncateAll(t.db);
  received = [];
  dir = mkdtempSync(path.join(os.tmpdir(), "gs-cli-app-"));
  dataDir = path.join(dir, "pglite");
  // This process plays the app: a live pid holds the directory's lock, and it says where it listens.
  writeFileSync(lockFileFor(dataDir), String(process.pid));
  appEnv();
  announceCliEndpoint({ dir: dataDir, url: appUrl, production: false });
});

afterEach(() => {
  withdrawCliEndpoint();
  setEnvForTests(testEnv());
  rmSync(dir, { recursive: true, force: true });
});

/** The command line, as `npm run job --` runs it (its own environment: development, no ADMIN_TOKEN). */
function runCli(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "scripts/job.ts", ...args], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        NODE_ENV: "development",
        ENCRYPTION_KEYS: TEST_KEYS.encryption[0],
        SESSION_SECRET: TEST_KEYS.session,
        LTIAAS_API_KEY: TEST_KEYS.apiKey,
        LTIAAS_URL: emu.url,
        PGLITE_DIR: dataDir,
        ...env,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const call = (headers: Record<string, string>, body: unknown = { argv: ["push-grades"] }) =>
  POST(new Request("http://127.0.0.1:3000/api/jobs/cli", { method: "POST", headers: { host: "127.0.0.1:3000", "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) }));

const devToken = () => readEndpoint(dataDir)!.token!;

describe("POST /api/jobs/cli: who may ask", () => {
  it("the app writes its pid, its URL and a development token beside the data directory, readable by its user only", () => {
    expect(readEndpoint(dataDir)).toEqual({ pid: process.pid, url: appUrl, token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(statSync(endpointFileFor(dataDir)).mode & 0o777).toBe(0o600);
    const first = devToken();
    announceCliEndpoint({ dir: dataDir, url: appUrl, production: false });
    expect(devToken()).not.toBe(first);
  });

  it("401 without a token and with a wrong one; the answer names no secret", async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: "Bearer wrong-token-000000000000000000000" }, { authorization: devToken() }];
    for (const headers of attempts) {
      const res = await call(headers);
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(text).not.toContain(devToken());
      expect(JSON.parse(text)).toMatchObject({ error: "unauthorized" });
    }
  });

  it("takes the development token from the loopback, and refuses it from anywhere else", async () => {
    expect((await call({ authorization: `Bearer ${devToken()}` })).status).toBe(200);
    expect((await call({ authorization: `Bearer ${devToken()}`, host: "localhost:3000", "x-forwarded-for": "127.0.0.1" })).status).toBe(200);
    expect((await call({ authorization: `Bearer ${devToken()}`, host: "gradesync.example.org" })).status).toBe(401);
    expect((await call({ authorization: `Bearer ${devToken()}`, "x-forwarded-for": "10.1.2.3" })).status).toBe(401);
  });

  it("refuses the development token in production; takes ADMIN_TOKEN there and in development", async () => {
    const token = devToken();
    appEnv({ NODE_ENV: "production", ADMIN_TOKEN: TEST_KEYS.admin });
    expect((await call({ authorization: `Bearer ${token}` })).status).toBe(401);
    const res = await call({ authorization: `Bearer ${TEST_KEYS.admin}`, host: "gradesync.example.org" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ kind: "push-grades", outcome: "completed" });
    appEnv({ ADMIN_TOKEN: TEST_KEYS.admin });
    expect((await call({ authorization: `Bearer ${TEST_KEYS.admin}` })).status).toBe(200);
    // ADMIN_TOKEN set in development does not retire the token the command line reads from the file.
    expect((await call({ authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it("does not exist in production without ADMIN_TOKEN (404), whatever is sent", async () => {
    const token = devToken();
    appEnv({ NODE_ENV: "production" });
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${token}` }];
    for (const headers of attempts) expect((await call(headers)).status).toBe(404);
  });

  it("checks its body: 400 with words for bad JSON, a bad shape, an unknown command, bad flags, or a path to read", async () => {
    const auth = { authorization: `Bearer ${devToken()}` };
    const cases: [unknown, RegExp][] = [
      ["{not json", /must be JSON/],
      [{ command: "push-grades" }, /argv/],
      [{ argv: ["push-grades"], file: "/etc/passwd" }, /argv/],
      [{ argv: ["push-everything"] }, /^usage: npm run job/],
      [{ argv: ["push-grades", "--since", "yesterday"] }, /ISO/],
      [{ argv: ["backfill", "--file", "/etc/passwd"] }, /--file names a file on the command line's machine/],
      [{ argv: ["backfill", "--context", "nope"] }, /--context takes an id from \/api\/status, or the LMS.s ids .*got "nope"/],
    ];
    for (const [body, message] of cases) {
      const res = await call(auth, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await res.json()).message, JSON.stringify(body)).toMatch(message);
    }
  });
});

describe("npm run job while the app holds the embedded database", () => {
  it("runs in the app and prints its summary as JSON, the same exit code", async () => {
    const r = await runCli(["push-grades", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed).toEqual({ ...(await runSummary(t.db, printed.runId)), details: { contexts: 0 } });
    expect(received).toEqual([{ argv: ["push-grades", "--json"] }]);
  });

  it("prints the text summary exactly as a run here would, the LTIAAS note included", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "cli1", resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(s, 3), { source: "webhook" });
    // The app's LTIAAS stops answering (its emulator stopped): the run says so, the rows wait.
    const closed = await closedPort();
    appEnv({ LTIAAS_URL: `http://127.0.0.1:${closed}/emulator` });
    const r = await runCli(["push-grades"]);
    expect(r.status).toBe(0);
    const runId = /\(run ([0-9a-f-]{36})\)/.exec(r.stdout)![1];
    expect(r.stdout).toBe(`${formatSummary({ ...(await runSummary(t.db, runId)) } as InlineRun)}\n`);
    expect(r.stdout).toContain(`LTIAAS unreachable at http://127.0.0.1:${closed}: nothing sent, rows left pending`);
  });

  it("reads --file itself and sends its entries, never the path; the app's refusal prints as the command line's own", async () => {
    const file = path.join(dir, "scores.json");
    writeFileSync(file, JSON.stringify([{ platformId: "p", contextId: "c", resourceLinkId: "r", userId: "u1", scoreGiven: 1, scoreMaximum: 2 }]));
    const r = await runCli(["backfill", "--file", file, "--dry-run"]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^.+:\n {2}#0: p \/ c \/ r\n$/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(received).toEqual([{ argv: ["backfill", "--dry-run"], scores: [{ platformId: "p", contextId: "c", resourceLinkId: "r", userId: "u1", scoreGiven: 1, scoreMaximum: 2 }] }]);

    const bad = await runCli(["backfill", "--context", "nope"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^--context takes an id from \/api\/status, or the LMS's ids as platformId\/contextId\/resourceLinkId .*got "nope"\n$/);
  });

  it("`next start` on PGlite: no development token, so the command line needs ADMIN_TOKEN, and says so", async () => {
    appEnv({ NODE_ENV: "production", ADMIN_TOKEN: TEST_KEYS.admin });
    announceCliEndpoint({ dir: dataDir, url: appUrl, production: true });
    expect(readEndpoint(dataDir)).toEqual({ pid: process.pid, url: appUrl });
    const without = await runCli(["push-grades"]);
    expect(without.status).toBe(1);
    expect(without.stderr).toMatch(/runs in production: set ADMIN_TOKEN/);
    const wrong = await runCli(["push-grades"], { ADMIN_TOKEN: "not-the-apps-token-0000" });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/refused ADMIN_TOKEN/);
    const r = await runCli(["push-grades", "--json"], { ADMIN_TOKEN: TEST_KEYS.admin });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: "push-grades", outcome: "completed" });
  });

  it("refuses as before when the process holding the directory does not answer where it said", async () => {
    withdrawCliEndpoint();
    announceCliEndpoint({ dir: dataDir, url: `http://127.0.0.1:${await closedPort()}`, production: false });
    const r = await runCli(["push-grades"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is open in another process \(pid \d+\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(received).toEqual([]);
  });
});

async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
}
