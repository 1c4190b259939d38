/**
 * The command line's side of running through the app: when another live process holds the embedded
 * database's directory and that process is the app that said where it listens (cli-endpoint.ts), the
 * command is sent to it over the loopback and its answer printed as if it had run here. Anything
 * else holding the directory — another command, a migration, an app that does not answer — gets the
 * lock's refusal: the directory is never opened twice.
 */
import { request } from "undici";
import { DataDirLockedError, lockOwner } from "../db/lock";
import { argvWithoutFile, type CliArgs, type CommandResult } from "./cli";
import { readEndpoint, type Endpoint } from "./cli-endpoint";

/** The app answered, but not with a result: its message, printed as the command line's own. */
export class CliRemoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliRemoteError";
  }
}

export interface AskOptions {
  /** The command line's ADMIN_TOKEN: sent when set, else the app's development token. */
  adminToken?: string;
  /** Told once the app is found, before the (possibly long) run. */
  onAsking?(endpoint: Endpoint): void;
}

/**
 * Runs the command in the app that holds `dir`, if another process holds it: its result, or
 * undefined when nobody does (run it here). Throws DataDirLockedError when the holder cannot be
 * asked, CliRemoteError when the app refused or could not run it.
 */
export async function askRunningApp(dir: string, argv: string[], args: CliArgs, opts: AskOptions = {}): Promise<CommandResult | undefined> {
  const owner = lockOwner(dir);
  if (owner === undefined || owner === process.pid) return undefined;
  const endpoint = readEndpoint(dir);
  if (!endpoint || endpoint.pid !== owner) throw new DataDirLockedError(dir, owner);
  const token = opts.adminToken ?? endpoint.token;
  if (!token)
    throw new CliRemoteError(
      `The embedded database is open in the app at ${endpoint.url} (pid ${owner}), which runs in production: ` +
        `set ADMIN_TOKEN (the app's) in this shell to run jobs through it.`,
    );
  opts.onAsking?.(endpoint);

  let res;
  try {
    res = await request(new URL("/api/jobs/cli", endpoint.url), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ argv: argvWithoutFile(argv), ...(args.scores ? { scores: args.scores } : {}) }),
      // A run takes as long as it takes: the app answers when it is done.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  } catch {
    // The holder does not answer where it said: the refusal, as without an app.
    throw new DataDirLockedError(dir, owner);
  }
  const text = await res.body.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  if (res.statusCode === 200 && body) return body as CommandResult;
  throw new CliRemoteError(refusal(res.statusCode, body, endpoint.url, Boolean(opts.adminToken)));
}

function refusal(status: number, body: Record<string, unknown> | undefined, url: string, sentAdminToken: boolean): string {
  const message = typeof body?.message === "string" ? body.message : undefined;
  if (status === 401)
    return sentAdminToken
      ? `The app at ${url} refused ADMIN_TOKEN: set it to the app's.`
      : `The app at ${url} refused its development token (restarted meanwhile?): run the command again.`;
  if (status === 404) return `The app at ${url} takes no commands: it runs in production without ADMIN_TOKEN. Set ADMIN_TOKEN in its environment and in this shell.`;
  if (message && status >= 400 && status < 500) return message;
  if (status >= 500) return `job failed in the app at ${url} (HTTP ${status}): its log says why.`;
  return `The app at ${url} answered HTTP ${status}.`;
}
