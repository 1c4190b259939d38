/**
 * The configuration (README), parsed once with zod. Production (NODE_ENV=production at run time)
 * refuses to start on a missing or bad variable; development and tests get working defaults, with
 * generated secrets kept under .data/ so they survive restarts. No secret's value is ever printed.
 */
import { randomBytes } from "node:crypto";
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

const base64urlKey = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/, "must be base64url")
  .refine((k) => Buffer.from(k, "base64url").length === 32, "each key must decode to 32 bytes");

const positiveInt = (fallback: number) =>
  optionalString.pipe(
    z
      .string()
      .regex(/^\d+$/, "must be a whole number")
      .transform(Number)
      .pipe(z.number().int().positive())
      .optional(),
  ).transform((v) => v ?? fallback);

// zod runs a refinement even after z.url() refused the value: it must not throw on a non-URL.
const parsedUrl = (u: string) => (URL.canParse(u) ? new URL(u) : undefined);

/** https, or plain http on a loopback host (a local receiver, the bundled emulator). */
const httpsUrl = (message: string) =>
  z.url({ message }).refine((u) => {
    const url = parsedUrl(u);
    return !url || url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname));
  }, "must use https (plain http only on a loopback host)");

// Both drivers speak only these schemes; anything else would fail later, at the first query.
const postgresUrl = z
  .url({ message: "must be a postgres:// URL" })
  .refine((u) => /^postgres(ql)?:$/.test(parsedUrl(u)?.protocol ?? "postgres:"), "must be a postgres:// URL");

const raw = z.object({
  NODE_ENV: optionalString,
  VERCEL: optionalString,
  PORT: optionalString,
  DATABASE_URL: optionalString.pipe(postgresUrl.optional()),
  POSTGRES_URL: optionalString.pipe(postgresUrl.optional()),
  PGLITE_DIR: optionalString,
  LTIAAS_URL: optionalString.pipe(httpsUrl("must be a URL such as https://your.ltiaas.com").optional()),
  LTIAAS_API_KEY: optionalString,
  GRADESYNC_EMULATOR: optionalString.pipe(z.enum(["0", "1"], { message: "must be 0 or 1" }).optional()),
  ENCRYPTION_KEYS: optionalString.pipe(
    z
      .string()
      .transform((s) => s.split(",").map((k) => k.trim()).filter(Boolean))
      .pipe(z.array(base64urlKey).min(1, "needs at least one key"))
      .optional(),
  ),
  SESSION_SECRET: optionalString.pipe(z.string().min(32, "must be at least 32 characters").optional()),
  SESSION_TTL_MINUTES: positiveInt(120),
  CRON_SECRET: optionalString.pipe(z.string().min(16, "must be at least 16 characters").optional()),
  GRADER_WEBHOOK_SECRET: optionalString.pipe(z.string().min(16, "must be at least 16 characters").optional()),
  ADMIN_TOKEN: optionalString.pipe(z.string().min(16, "must be at least 16 characters").optional()),
  PLATFORM_CONCURRENCY: positiveInt(2),
  ROSTER_MAX_AGE_HOURS: positiveInt(12),
  // A secret (whoever holds it posts to the channel): zod's messages never echo it.
  ALERT_WEBHOOK_URL: optionalString.pipe(httpsUrl("must be a URL such as https://hooks.slack.com/services/…").optional()),
  ALERT_PENDING_MINUTES: positiveInt(120),
  APP_URL: optionalString.pipe(
    z
      .url({ message: "must be a URL such as https://gradesync.example.edu" })
      .refine((u) => /^https?:$/.test(parsedUrl(u)?.protocol ?? "http:"), "must be an http(s) URL")
      .optional(),
  ),
  // Set by Vercel: the deployment's host name, without a scheme.
  VERCEL_URL: optionalString.pipe(z.string().regex(/^[A-Za-z0-9.-]+(:\d+)?$/, "must be a host name").optional()),
  INNGEST_EVENT_KEY: optionalString,
  INNGEST_SIGNING_KEY: optionalString,
  INNGEST_DEV: optionalString,
  JOBS_MODE: optionalString.pipe(z.enum(["inngest", "inline"], { message: "must be inngest or inline" }).optional()),
});

export type DatabaseConfig =
  | { driver: "pglite"; dir: string }
  | { driver: "node-postgres"; url: string }
  | { driver: "vercel-postgres"; url: string };

export interface Env {
  production: boolean;
  /** VERCEL=1: the platform sets X-Forwarded-For itself, so a client's address can be trusted. */
  vercel: boolean;
  database: DatabaseConfig;
  ltiaasUrl: string;
  ltiaasApiKey: string;
  /** Serve the bundled LTIAAS + LMS emulator under /emulator. */
  emulator: boolean;
  encryptionKeys: string[];
  sessionSecret: string;
  sessionTtlMinutes: number;
  cronSecret?: string;
  graderWebhookSecret?: string;
  adminToken?: string;
  platformConcurrency: number;
  rosterMaxAgeHours: number;
  /** Operator alerts: `webhookUrl` is a secret (unset: no alerts are sent). */
  alerts: { webhookUrl?: string; pendingMinutes: number };
  /** The public base URL (alerts' links to /admin), no trailing slash: APP_URL, else https://VERCEL_URL. */
  appUrl?: string;
  jobsMode: "inngest" | "inline";
  inngest: { eventKey?: string; signingKey?: string; dev: boolean };
}

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Gradesync cannot start; fix the environment:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "EnvError";
  }
}

const devSecretsSchema = z.object({
  encryptionKey: base64urlKey,
  sessionSecret: z.string().min(32),
  apiKey: z.string().min(1),
});
type DevSecrets = z.infer<typeof devSecretsSchema>;

function readDevSecrets(file: string, cwd: string): DevSecrets {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    json = undefined;
  }
  const parsed = devSecretsSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  // Not a variable, but the same refusal: one line saying what to do, never the file's content.
  throw new EnvError([
    `${path.relative(cwd, file)} is damaged: delete it to generate new development secrets (launch again afterwards: keys sealed with the old ones no longer open)`,
  ]);
}

/** Secrets generated once for development, kept in .data/ (never in git). */
function devSecrets(dataDir: string, cwd: string): DevSecrets {
  const file = path.join(dataDir, "dev-secrets.json");
  if (existsSync(file)) return readDevSecrets(file, cwd);
  const secrets: DevSecrets = {
    encryptionKey: randomBytes(32).toString("base64url"),
    sessionSecret: randomBytes(32).toString("base64url"),
    apiKey: `dev-${randomBytes(16).toString("base64url")}`,
  };
  mkdirSync(dataDir, { recursive: true });
  // Written aside and linked into place: of two processes starting at once (the dev server and the
  // CLI) one set wins and both use it; a lost encryption key would leave sealed keys unopenable.
  const aside = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
  writeFileSync(aside, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  try {
    linkSync(aside, file);
    return secrets;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return readDevSecrets(file, cwd);
  } finally {
    rmSync(aside, { force: true });
  }
}

/** Parses an environment. Pure except for the development secrets file; throws EnvError. */
export function parseEnv(source: Record<string, string | undefined> = process.env, cwd = process.cwd()): Env {
  // Each variable on its own, so one bad value does not hide the others: every problem is reported
  // at once, one line per variable. zod messages never echo the offending value.
  const problems: string[] = [];
  const invalid = new Set<string>();
  const values: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(raw.shape)) {
    const result = (schema as z.ZodType).safeParse(source[name]);
    if (result.success) values[name] = result.data;
    else {
      invalid.add(name);
      problems.push(`${name} ${result.error.issues[0]?.message ?? "is invalid"}`);
    }
  }
  const v = values as z.infer<typeof raw>;
  const missing = (name: string, message: string) => {
    if (!invalid.has(name)) problems.push(message);
  };
  const production = v.NODE_ENV === "production";
  const dataDir = path.resolve(cwd, ".data");

  const url = v.DATABASE_URL ?? v.POSTGRES_URL;
  let database: DatabaseConfig;
  if (v.DATABASE_URL) database = { driver: "node-postgres", url: v.DATABASE_URL };
  else if (v.POSTGRES_URL) database = { driver: v.VERCEL === "1" ? "vercel-postgres" : "node-postgres", url: v.POSTGRES_URL };
  else database = { driver: "pglite", dir: path.resolve(cwd, v.PGLITE_DIR ?? ".data/pglite") };
  if (v.VERCEL === "1" && !url) missing("DATABASE_URL", "DATABASE_URL or POSTGRES_URL is required on Vercel (PGlite's disk would vanish)");

  const emulator = v.GRADESYNC_EMULATOR === "1" || (!production && !v.LTIAAS_URL);
  let dev: ReturnType<typeof devSecrets> | undefined;
  const needDev = () => (dev ??= devSecrets(dataDir, cwd));

  let ltiaasUrl = v.LTIAAS_URL;
  let ltiaasApiKey = v.LTIAAS_API_KEY;
  if (!ltiaasUrl) {
    if (production && v.GRADESYNC_EMULATOR !== "1") missing("LTIAAS_URL", "LTIAAS_URL is required in production");
    else ltiaasUrl = `http://127.0.0.1:${v.PORT ?? "3000"}/emulator`;
  }
  if (!ltiaasApiKey) {
    if (production && v.GRADESYNC_EMULATOR !== "1") missing("LTIAAS_API_KEY", "LTIAAS_API_KEY is required in production");
    else ltiaasApiKey = needDev().apiKey;
  }

  let encryptionKeys = v.ENCRYPTION_KEYS;
  if (!encryptionKeys) {
    if (production) missing("ENCRYPTION_KEYS", "ENCRYPTION_KEYS is required in production (comma-separated base64url 32-byte keys)");
    else encryptionKeys = [needDev().encryptionKey];
  }
  let sessionSecret = v.SESSION_SECRET;
  if (!sessionSecret) {
    if (production) missing("SESSION_SECRET", "SESSION_SECRET is required in production (at least 32 characters)");
    else sessionSecret = needDev().sessionSecret;
  }

  // Inngest's SDK reads INNGEST_DEV=0 or false as "cloud mode" (a signing key needed), not as dev.
  const inngestDev = v.INNGEST_DEV !== undefined && !/^(0|false)$/i.test(v.INNGEST_DEV);
  const inngestConfigured = inngestDev || Boolean(v.INNGEST_EVENT_KEY);
  const jobsMode = v.JOBS_MODE ?? (inngestConfigured ? "inngest" : "inline");
  // In dev mode the SDK checks no signature, signing key or not: anyone could call /api/inngest
  // and have a forged grade recorded and sent. Production never runs it, whatever else is set.
  if (production && inngestDev)
    problems.push("INNGEST_DEV must not be set in production (Inngest's dev mode accepts unsigned calls to /api/inngest); remove it, or set it to 0");
  else if (production && jobsMode === "inngest" && !v.INNGEST_SIGNING_KEY)
    missing("INNGEST_SIGNING_KEY", "INNGEST_SIGNING_KEY is required in production when jobs run on Inngest");

  if (problems.length) throw new EnvError(problems);
  return {
    production,
    vercel: v.VERCEL === "1",
    database,
    ltiaasUrl: ltiaasUrl!.replace(/\/+$/, ""),
    ltiaasApiKey: ltiaasApiKey!,
    emulator,
    encryptionKeys: encryptionKeys!,
    sessionSecret: sessionSecret!,
    sessionTtlMinutes: v.SESSION_TTL_MINUTES,
    cronSecret: v.CRON_SECRET,
    graderWebhookSecret: v.GRADER_WEBHOOK_SECRET,
    adminToken: v.ADMIN_TOKEN,
    platformConcurrency: v.PLATFORM_CONCURRENCY,
    rosterMaxAgeHours: v.ROSTER_MAX_AGE_HOURS,
    alerts: { webhookUrl: v.ALERT_WEBHOOK_URL, pendingMinutes: v.ALERT_PENDING_MINUTES },
    appUrl: (v.APP_URL ?? (v.VERCEL_URL ? `https://${v.VERCEL_URL}` : undefined))?.replace(/\/+$/, ""),
    jobsMode,
    inngest: { eventKey: v.INNGEST_EVENT_KEY, signingKey: v.INNGEST_SIGNING_KEY, dev: inngestDev },
  };
}

const cache = globalThis as unknown as { __gradesyncEnv?: Env };

/** The process's configuration, parsed on first use. */
export function env(): Env {
  return (cache.__gradesyncEnv ??= parseEnv());
}

/** Tests swap the configuration; production code never calls this. */
export function setEnvForTests(next: Env | undefined): void {
  cache.__gradesyncEnv = next;
}
