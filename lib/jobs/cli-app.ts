/**
 * The app's side of `npm run job` while it holds the embedded database (whose directory only one
 * process may open): at start it says where it listens (cli-endpoint.ts), and `POST /api/jobs/cli`
 * runs the command here through the same `runCommand` the command line would, answering its result
 * as JSON for the command line to print.
 *
 * Who may ask: `Authorization: Bearer <ADMIN_TOKEN>`; or, in development only and from the loopback
 * only, the token this start wrote beside the data directory. In production without ADMIN_TOKEN the
 * route does not exist (404). The body names the command and its arguments as typed (`argv`, parsed
 * here by the same parser) and `--file`'s entries as `scores`: the app never reads a path it is sent.
 */
import { z } from "zod";
import { getDb, type Db } from "../db/client";
import { env } from "../env";
import { issuesOf } from "../grades/entry";
import { UnknownTripleError } from "../grades/record";
import { isLoopbackRequest, tokenMatches } from "../session/admin-access";
import { cliErrorMessage, parseCliArgs, runCommand, UsageError } from "./cli";
import { devToken } from "./cli-endpoint";
import type { Dispatcher } from "./dispatch";
import { AlreadyRunningError } from "./inline";

export type CliAccess = "ok" | "unauthorized" | "not_found";

/** Whether a request may run commands (see the module's comment). */
export function cliAccess(headers: { get(name: string): string | null }): CliAccess {
  const { adminToken, production } = env();
  if (production && !adminToken) return "not_found";
  const bearer = /^Bearer (.+)$/.exec(headers.get("authorization") ?? "")?.[1];
  if (!bearer) return "unauthorized";
  if (adminToken && tokenMatches(bearer, adminToken)) return "ok";
  const token = devToken();
  if (!production && token && tokenMatches(bearer, token) && isLoopbackRequest(headers)) return "ok";
  return "unauthorized";
}

/** A backfill file of 100,000 scores fits; nothing a command line sends is larger. */
export const MAX_CLI_BODY_BYTES = 64 * 1024 * 1024;

export const cliRequestSchema = z.strictObject({
  /** The command and its flags as typed, `--file` left out. */
  argv: z.array(z.string().max(4096)).min(1).max(64),
  /** `--file`'s entries, read by the command line. */
  scores: z.array(z.unknown()).max(100_000).optional(),
});

export interface CliAnswer {
  status: number;
  body: Record<string, unknown>;
}

const usage = (message: string): CliAnswer => ({ status: 400, body: { error: "usage", message } });

/** Runs a command line's request here; an error the command line would print becomes its answer. */
export async function answerCliRequest(req: Request, opts: { db?: Db; dispatcher?: Dispatcher } = {}): Promise<CliAnswer> {
  const access = cliAccess(req.headers);
  if (access === "not_found") return { status: 404, body: { error: "not_found" } };
  if (access === "unauthorized")
    return { status: 401, body: { error: "unauthorized", message: "send Authorization: Bearer ADMIN_TOKEN (or, in development from this machine, the token the app wrote beside its data directory)" } };

  const length = Number(req.headers.get("content-length") ?? 0);
  if (length > MAX_CLI_BODY_BYTES) return { status: 413, body: { error: "too_large", message: `at most ${MAX_CLI_BODY_BYTES} bytes` } };
  const text = await req.text();
  if (Buffer.byteLength(text) > MAX_CLI_BODY_BYTES) return { status: 413, body: { error: "too_large", message: `at most ${MAX_CLI_BODY_BYTES} bytes` } };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { status: 400, body: { error: "invalid_body", message: "the body must be JSON: {\"argv\": [command, ...flags], \"scores\"?: [...]}" } };
  }
  const parsed = cliRequestSchema.safeParse(json);
  if (!parsed.success)
    return {
      status: 400,
      body: { error: "invalid_body", message: "the body must be {\"argv\": [command, ...flags], \"scores\"?: [...]}", issues: issuesOf(parsed.error) },
    };

  let args;
  try {
    args = parseCliArgs(parsed.data.argv);
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message);
    throw error;
  }
  if (args.file) return usage(`--file names a file on the command line's machine: send its entries as "scores" instead`);

  try {
    const result = await runCommand(opts.db ?? (await getDb()), { ...args, scores: parsed.data.scores }, opts.dispatcher);
    return { status: 200, body: result };
  } catch (error) {
    const message = cliErrorMessage(error);
    if (error instanceof UsageError) return usage(message!);
    if (error instanceof UnknownTripleError) return { status: 422, body: { error: "unknown_triple", message, unknown: error.unknown } };
    if (error instanceof AlreadyRunningError) return { status: 409, body: { error: "already_running", running: error.runId, message } };
    throw error;
  }
}
