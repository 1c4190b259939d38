import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "@/lib/env";

const KEY = Buffer.alloc(32, 7).toString("base64url");
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), "gradesync-env-"));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const production = {
  NODE_ENV: "production",
  DATABASE_URL: "postgres://u:p@db.example.com:5432/app",
  LTIAAS_URL: "https://school.ltiaas.com",
  LTIAAS_API_KEY: "live-api-key-value",
  ENCRYPTION_KEYS: KEY,
  SESSION_SECRET: "s".repeat(40),
};

function problems(source: Record<string, string | undefined>, cwd = tmp()): string[] {
  try {
    parseEnv(source, cwd);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvError);
    return (error as EnvError).problems;
  }
  return [];
}

describe("configuration", () => {
  it("accepts a complete production environment", () => {
    const env = parseEnv(production, tmp());
    expect(env).toMatchObject({
      production: true,
      database: { driver: "node-postgres" },
      ltiaasUrl: "https://school.ltiaas.com",
      emulator: false,
      platformConcurrency: 2,
      rosterMaxAgeHours: 12,
      sessionTtlMinutes: 120,
      jobsMode: "inline",
    });
  });

  it("refuses production without its secrets, one line per variable, writing nothing", () => {
    const cwd = tmp();
    const lines = problems({ NODE_ENV: "production" }, cwd);
    expect(lines).toEqual([
      expect.stringMatching(/^LTIAAS_URL /),
      expect.stringMatching(/^LTIAAS_API_KEY /),
      expect.stringMatching(/^ENCRYPTION_KEYS /),
      expect.stringMatching(/^SESSION_SECRET /),
    ]);
    expect(existsSync(path.join(cwd, ".data"))).toBe(false);
  });

  it("names bad values without echoing them", () => {
    const bad = {
      ...production,
      ENCRYPTION_KEYS: `${KEY},c2hvcnQ`,
      SESSION_SECRET: "too-short-secret-value",
      LTIAAS_URL: "http://ltiaas.example.com",
      PLATFORM_CONCURRENCY: "two",
      JOBS_MODE: "cron",
    };
    const lines = problems(bad);
    expect(lines.map((l) => l.split(" ")[0]).sort()).toEqual(["ENCRYPTION_KEYS", "JOBS_MODE", "LTIAAS_URL", "PLATFORM_CONCURRENCY", "SESSION_SECRET"]);
    const text = lines.join("\n");
    for (const secret of ["too-short-secret-value", "c2hvcnQ", KEY]) expect(text).not.toContain(secret);
  });

  it("reports bad and missing variables together, one line each", () => {
    const lines = problems({ NODE_ENV: "production", SESSION_SECRET: "short", LTIAAS_URL: "http://ltiaas.example.com" });
    expect(lines.map((l) => l.split(" ")[0]).sort()).toEqual(["ENCRYPTION_KEYS", "LTIAAS_API_KEY", "LTIAAS_URL", "SESSION_SECRET"]);
    expect(lines.join("\n")).not.toContain("short");
  });

  it("allows plain http to LTIAAS only on a loopback host", () => {
    expect(parseEnv({ ...production, LTIAAS_URL: "http://127.0.0.1:4000/" }, tmp()).ltiaasUrl).toBe("http://127.0.0.1:4000");
    expect(problems({ ...production, LTIAAS_URL: "http://10.0.0.5" })).toHaveLength(1);
  });

  it("a value that is no URL at all is a line naming its variable, not a crash", () => {
    expect(problems({ ...production, LTIAAS_URL: "not a url" })).toEqual([expect.stringMatching(/^LTIAAS_URL must be a URL/)]);
    expect(problems({ ...production, DATABASE_URL: "not a url" })).toEqual(["DATABASE_URL must be a postgres:// URL"]);
  });

  it("alerts: ALERT_WEBHOOK_URL is a secret https URL (named, never echoed); ALERT_PENDING_MINUTES and APP_URL (else Vercel's URL)", () => {
    const hook = "https://hooks.slack.com/services/T0/B0/hunter2tokenvalue";
    expect(parseEnv(production, tmp())).toMatchObject({ alerts: { webhookUrl: undefined, pendingMinutes: 120 }, appUrl: undefined });
    expect(parseEnv({ ...production, ALERT_WEBHOOK_URL: hook, ALERT_PENDING_MINUTES: "45", APP_URL: "https://grades.example.edu/" }, tmp())).toMatchObject({
      alerts: { webhookUrl: hook, pendingMinutes: 45 },
      appUrl: "https://grades.example.edu",
    });
    expect(parseEnv({ ...production, VERCEL_URL: "gradesync-abc.vercel.app" }, tmp()).appUrl).toBe("https://gradesync-abc.vercel.app");
    expect(parseEnv({ ...production, VERCEL_URL: "gradesync-abc.vercel.app", APP_URL: "https://grades.example.edu" }, tmp()).appUrl).toBe("https://grades.example.edu");
    expect(parseEnv({ ...production, ALERT_WEBHOOK_URL: "http://127.0.0.1:9000/hook" }, tmp()).alerts.webhookUrl).toBe("http://127.0.0.1:9000/hook");
    const bad = [
      { ALERT_WEBHOOK_URL: "http://hooks.example.com/services/hunter2tokenvalue" },
      { ALERT_WEBHOOK_URL: "hooks.slack.com/services/hunter2tokenvalue" },
      { ALERT_PENDING_MINUTES: "two hours" },
      { APP_URL: "ftp://grades.example.edu" },
      { VERCEL_URL: "https://x/y" },
    ];
    for (const b of bad) {
      const lines = problems({ ...production, ...b });
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^${Object.keys(b)[0]} `))]);
      expect(lines.join("\n")).not.toContain("hunter2");
    }
  });

  it("needs a database URL on Vercel and picks the driver by variable", () => {
    expect(problems({ ...production, DATABASE_URL: undefined, VERCEL: "1" })[0]).toMatch(/^DATABASE_URL or POSTGRES_URL is required on Vercel/);
    expect(parseEnv({ ...production, DATABASE_URL: undefined, POSTGRES_URL: "postgres://x@h/db", VERCEL: "1" }, tmp()).database.driver).toBe("vercel-postgres");
    expect(parseEnv({ ...production, DATABASE_URL: undefined, POSTGRES_URL: "postgres://x@h/db" }, tmp()).database.driver).toBe("node-postgres");
    expect(parseEnv({ ...production, POSTGRES_URL: "postgres://x@other/db" }, tmp()).database).toMatchObject({ url: production.DATABASE_URL });
    expect(parseEnv({ ...production, DATABASE_URL: "postgresql://x@h/db" }, tmp()).database.driver).toBe("node-postgres");
    expect(problems({ ...production, DATABASE_URL: "mysql://u:hunter22@h/db" })).toEqual(["DATABASE_URL must be a postgres:// URL"]);
    expect(problems({ ...production, DATABASE_URL: undefined, POSTGRES_URL: "https://h/db" })).toEqual(["POSTGRES_URL must be a postgres:// URL"]);
  });

  it("gives development working defaults with secrets generated once into .data/", () => {
    const cwd = tmp();
    const first = parseEnv({}, cwd);
    expect(first).toMatchObject({ production: false, emulator: true, ltiaasUrl: "http://127.0.0.1:3000/emulator", database: { driver: "pglite", dir: path.join(cwd, ".data/pglite") } });
    const again = parseEnv({ PORT: "4000" }, cwd);
    expect(again.encryptionKeys).toEqual(first.encryptionKeys);
    expect(again.sessionSecret).toBe(first.sessionSecret);
    expect(again.ltiaasUrl).toBe("http://127.0.0.1:4000/emulator");
    expect(Buffer.from(first.encryptionKeys[0], "base64url")).toHaveLength(32);
    const file = path.join(cwd, ".data/dev-secrets.json");
    expect(JSON.parse(readFileSync(file, "utf8")).sessionSecret).toBe(first.sessionSecret);
  });

  it("refuses a damaged development secrets file with one line saying what to do, never its content", () => {
    for (const content of ['{"encryptionKey":', JSON.stringify({ encryptionKey: "c2hvcnQ", sessionSecret: "x".repeat(40), apiKey: "dev-k" })]) {
      const cwd = tmp();
      mkdirSync(path.join(cwd, ".data"));
      writeFileSync(path.join(cwd, ".data/dev-secrets.json"), content);
      const lines = problems({}, cwd);
      expect(lines).toEqual([expect.stringMatching(/^\.data\/dev-secrets\.json is damaged: delete it/)]);
      expect(lines[0]).not.toContain("c2hvcnQ");
    }
  });

  it("leaves no stray file beside the development secrets", () => {
    const cwd = tmp();
    parseEnv({}, cwd);
    expect(readdirSync(path.join(cwd, ".data"))).toEqual(["dev-secrets.json"]);
  });

  it("serves the emulator in production only when asked", () => {
    expect(parseEnv(production, tmp()).emulator).toBe(false);
    const demo = parseEnv({ NODE_ENV: "production", GRADESYNC_EMULATOR: "1", ENCRYPTION_KEYS: KEY, SESSION_SECRET: "s".repeat(40), LTIAAS_API_KEY: "demo-key" }, tmp());
    expect(demo.emulator).toBe(true);
  });

  it("runs jobs on Inngest when it is configured, and then wants its signing key in production", () => {
    expect(parseEnv({ INNGEST_DEV: "1" }, tmp()).jobsMode).toBe("inngest");
    expect(parseEnv({ INNGEST_DEV: "1", JOBS_MODE: "inline" }, tmp()).jobsMode).toBe("inline");
    expect(problems({ ...production, INNGEST_EVENT_KEY: "evt" })).toEqual([expect.stringMatching(/^INNGEST_SIGNING_KEY /)]);
  });

  it("reads INNGEST_DEV=0 or false as Inngest does: cloud mode, not dev", () => {
    expect(parseEnv({ INNGEST_DEV: "0" }, tmp())).toMatchObject({ jobsMode: "inline", inngest: { dev: false } });
    expect(parseEnv({ INNGEST_DEV: "http://127.0.0.1:8288" }, tmp())).toMatchObject({ jobsMode: "inngest", inngest: { dev: true } });
    for (const off of ["0", "false", "FALSE"])
      expect(problems({ ...production, INNGEST_EVENT_KEY: "evt", INNGEST_DEV: off })).toEqual([expect.stringMatching(/^INNGEST_SIGNING_KEY /)]);
    expect(problems({ ...production, INNGEST_SIGNING_KEY: "signkey-prod-1", INNGEST_EVENT_KEY: "evt", INNGEST_DEV: "0" })).toEqual([]);
  });

  // The SDK skips signature checks in dev mode even with a signing key: /api/inngest would take unsigned calls.
  it("refuses Inngest's dev mode in production, whatever else is set", () => {
    const devMode = expect.stringMatching(/^INNGEST_DEV must not be set in production/);
    for (const dev of ["1", "true", "http://127.0.0.1:8288"]) {
      expect(problems({ ...production, INNGEST_DEV: dev })).toEqual([devMode]);
      expect(problems({ ...production, INNGEST_DEV: dev, INNGEST_SIGNING_KEY: "signkey-prod-1" })).toEqual([devMode]);
      expect(problems({ ...production, INNGEST_DEV: dev, INNGEST_SIGNING_KEY: "signkey-prod-1", INNGEST_EVENT_KEY: "evt", JOBS_MODE: "inline" })).toEqual([devMode]);
    }
    // Outside production, dev mode is what `npx inngest-cli dev` needs.
    expect(parseEnv({ INNGEST_DEV: "1" }, tmp()).inngest.dev).toBe(true);
  });

  it("wants a signing key whenever production runs jobs on Inngest, JOBS_MODE=inngest included", () => {
    expect(problems({ ...production, JOBS_MODE: "inngest" })).toEqual([expect.stringMatching(/^INNGEST_SIGNING_KEY /)]);
    expect(problems({ ...production, JOBS_MODE: "inngest", INNGEST_SIGNING_KEY: "signkey-prod-1" })).toEqual([]);
  });
});
