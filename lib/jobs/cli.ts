/**
 * The command line's logic (scripts/job.ts is its entry): parse arguments, resolve `--context`
 * (an /api/status id, i.e. a resource link), read a backfill file (CSV with the webhook's field
 * names, or JSON: an array of entries or {scores:[…]}), run the command, print what it did.
 * Exit codes, as the README puts it: 0 when the run ran to its end — completed, or partial (rows
 * left pending after a relaunch is needed, or failed; the summary says which) — and 1 when it could not run.
 *
 * `runCommand` is the one code path: the command line calls it with its own database, or — when a
 * running app holds the embedded database — the app calls it for the command line (cli-app.ts), and
 * the command line prints the app's answer with the same `printResult`.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Db } from "../db/client";
import { DataDirLockedError } from "../db/lock";
import { EnvError } from "../env";
import { issuesOf } from "../grades/entry";
import { UnknownTripleError } from "../grades/record";
import type { CliInput } from "./definition";
import type { BackfillOutcome } from "./definitions/backfill";
import { dispatcher, type Dispatcher } from "./dispatch";
import { AlreadyRunningError, type InlineRun } from "./inline";
import { CLI_JOBS, jobOfKind } from "./table";
import { OPERATORS } from "./operators";
import { resolveContextArg, UsageError, type CliArgs } from "./cli-args";

export { resolveContextArg, UsageError, type CliArgs, type ResolvedContext } from "./cli-args";

/** Commands that are not runs: they change state and print what they did. */
export const OPERATOR_COMMANDS: readonly string[] = Object.keys(OPERATORS);
export const COMMANDS: readonly string[] = [...CLI_JOBS.map((d) => d.kind), ...OPERATOR_COMMANDS];
export type Command = string;

export const USAGE =
  `usage: npm run job -- <${COMMANDS.join(" | ")}> [--context ID] [--platform ID] [--concurrency N|default] [--since ISO] ` +
  `[--file scores.csv|json] [--dry-run] [--overwrite] [--json]`;



const OPTIONS = {
  context: { type: "string" },
  platform: { type: "string" },
  concurrency: { type: "string" },
  since: { type: "string" },
  file: { type: "string" },
  "dry-run": { type: "boolean", default: false },
  overwrite: { type: "boolean", default: false },
  json: { type: "boolean", default: false },
} as const;

/** The arguments as typed without `--file` and its value: what the command line sends the app. */
export function argvWithoutFile(argv: string[]): string[] {
  const { tokens } = parseArgs({ args: argv, allowPositionals: true, strict: false, tokens: true, options: OPTIONS });
  const drop = new Set<number>();
  for (const t of tokens) {
    if (t.kind !== "option" || t.name !== "file") continue;
    drop.add(t.index);
    if (t.value !== undefined && !t.inlineValue) drop.add(t.index + 1);
  }
  return argv.filter((_, i) => !drop.has(i));
}

export function parseCliArgs(argv: string[]): CliArgs {
  if (argv.some((a) => a === "--help" || a === "-h")) throw new UsageError(USAGE);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const [command, ...rest] = parsed.positionals;
  if (!command || !COMMANDS.includes(command)) throw new UsageError(USAGE);
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}\n${USAGE}`);
  const v = parsed.values;
  if (v.since !== undefined && Number.isNaN(Date.parse(v.since))) throw new UsageError(`--since must be an ISO date-time`);
  return { command, context: v.context, platform: v.platform, concurrency: v.concurrency, since: v.since, file: v.file, dryRun: v["dry-run"] ?? false, overwrite: v.overwrite ?? false, json: v.json ?? false };
}

/** Minimal RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF. */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    }
    else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      if (row.some((f) => f !== "")) rows.push(row);
      row = [];
      field = "";
    } else field += ch;
  }
  row.push(field);
  if (row.some((f) => f !== "")) rows.push(row);
  const [header, ...body] = rows;
  if (!header) return [];
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h.trim(), r[i] ?? ""])));
}

const NUMERIC = new Set(["scoreGiven", "scoreMaximum"]);

/** Scores from a CSV or JSON file, in the webhook's entry shape (validated later by zod). */
export function readScoresFile(path: string): unknown[] {
  let text: string;
  try {
    // Spreadsheets save "CSV UTF-8" with a byte order mark: it would glue onto the first header.
    text = readFileSync(path, "utf8").replace(/^\uFEFF/, "");
  } catch (error) {
    throw new UsageError(`--file ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  if (/\.json$/i.test(path) || /^\s*[[{]/.test(text)) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UsageError(`--file ${path}: not valid JSON`);
    }
    return Array.isArray(json) ? json : ((json as { scores?: unknown[] }).scores ?? []);
  }
  return parseCsv(text).map((r) =>
    Object.fromEntries(
      Object.entries(r)
        .filter(([, v]) => v !== "")
        .map(([k, v]) => [k, NUMERIC.has(k) && /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v]),
    ),
  );
}



/** The job's payload from the arguments: `--context` resolved, `--file`'s entries, checked by the job's schema. */
export async function cliPayload(db: Db, args: CliArgs): Promise<object> {
  // Read on the command line's side only: past it (in the app above all) nothing reads a path.
  if (args.file && !args.scores) throw new Error("--file was not read: pass the arguments through withFileRead first");
  const def = jobOfKind(args.command);
  const input: CliInput = {
    context: args.context ? await resolveContextArg(db, args.context) : undefined,
    since: args.since ? new Date(args.since).toISOString() : undefined,
    scores: args.scores,
    dryRun: args.dryRun,
    overwrite: args.overwrite,
  };
  let candidate: unknown;
  try {
    candidate = def.cliPayload ? def.cliPayload(input) : {};
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const parsed = def.payload.safeParse(candidate);
  if (!parsed.success)
    throw new UsageError(`invalid ${def.kind}:\n${issuesOf(parsed.error).map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}`);
  return parsed.data as object;
}

/** `--file` read into `scores`, by the command line only (the app is sent the entries, never a path). */
export function withFileRead(args: CliArgs): CliArgs {
  return args.file ? { ...args, scores: readScoresFile(args.file) } : args;
}

/** Runs the job here, to its end, whatever the engine (the command line is an operator's run). */
export async function runCliJob(db: Db, args: CliArgs, d: Dispatcher = dispatcher()): Promise<InlineRun> {
  return d.runHere(args.command, await cliPayload(db, args), "cli");
}

/** What a command did: a run's summary, or an operator command's report. */
export type CommandResult = InlineRun | Record<string, unknown>;

/** Runs a command in this process: the command line's, or the app's on its behalf. */
export async function runCommand(db: Db, args: CliArgs, d: Dispatcher = dispatcher()): Promise<CommandResult> {
  const operator = OPERATORS[args.command];
  return operator ? operator.run(db, args) : runCliJob(db, args, d);
}

/** What the command line prints on stdout for a command's result: text, or JSON with `--json`. */
export function printResult(args: Pick<CliArgs, "command" | "json"> & Partial<Pick<CliArgs, "overwrite">>, result: CommandResult): string {
  const operator = OPERATORS[args.command];
  if (operator) return args.json ? JSON.stringify(result) : operator.text(result);
  return args.json ? JSON.stringify(result, null, 2) : formatSummary(result as InlineRun, { overwrite: args.overwrite ?? false });
}

export function exitCodeFor(result: { outcome: string }): number {
  return result.outcome === "completed" || result.outcome === "partial" ? 0 : 1;
}

/** The command line's exit code for a command's result. */
export function exitCodeOf(args: Pick<CliArgs, "command">, result: CommandResult): number {
  return OPERATORS[args.command] ? 0 : exitCodeFor(result as InlineRun);
}

/** What the command line says (stderr, exit 1) for an error it expects; undefined for any other. */
export function cliErrorMessage(error: unknown): string | undefined {
  if (error instanceof UsageError || error instanceof EnvError || error instanceof DataDirLockedError) return error.message;
  if (error instanceof UnknownTripleError)
    return `${error.message}:\n${error.unknown.map((u) => `  #${u.index}: ${u.platformId} / ${u.contextId} / ${u.resourceLinkId}`).join("\n")}`;
  if (error instanceof AlreadyRunningError) return `already running: run ${error.runId} has not finished yet; try again when it has`;
  return undefined;
}

export function formatSummary(r: InlineRun, args: Pick<CliArgs, "overwrite"> = { overwrite: false }): string {
  const lines = [
    `${r.kind} ${r.outcome} (run ${r.runId})`,
    `  sent ${r.counts.sent}, skipped ${r.counts.skipped}, failed ${r.counts.failed}, pending ${r.counts.pending}`,
    `  started ${r.startedAt}, finished ${r.finishedAt ?? "-"}`,
  ];
  if (r.note) lines.push(`  ${r.note}`);
  const b = r.backfill as BackfillOutcome | undefined;
  if (b) {
    if (b.dryRun) {
      lines.push(`  dry run: would send ${b.wouldSend ?? 0} score(s)`);
      if (b.overridden) lines.push(`  ${b.overridden} of the selected grade(s) were set by a person in the LMS: ${args.overwrite ? "--overwrite sends over them" : "kept (add --overwrite to send over them)"}`);
      for (const row of b.rows ?? []) lines.push(`    ${row.platformId} ${row.contextId} ${row.resourceLinkId} ${row.userId}: ${row.scoreGiven ?? "-"}/${row.scoreMaximum ?? "-"} (${row.state})`);
    } else lines.push(`  revised ${b.revised} score(s) across ${b.contexts} context(s)`);
  }
  return lines.join("\n");
}

export { UnknownTripleError };
