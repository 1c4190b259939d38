/**
 * The command line's logic (scripts/job.ts is its entry): parse arguments, resolve `--context`
 * (an /api/status id, i.e. a resource link), read a backfill file (CSV with the webhook's field
 * names, or JSON: an array of entries or {scores:[…]}), run the job inline, print a summary.
 * Exit codes, as the contract puts it: 0 when the run ran to its end — completed, or partial (rows
 * left pending after a relaunch is needed, or failed; the summary says which) — and 1 when it could not run.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { issuesOf } from "../grades/entry";
import { UnknownTripleError } from "../grades/record";
import type { CliInput } from "./definition";
import type { BackfillOutcome } from "./definitions/backfill";
import { dispatcher, type Dispatcher } from "./dispatch";
import type { InlineRun } from "./inline";
import { CLI_JOBS, jobOfKind } from "./table";
import { rowsOf, UUID } from "../db/rows";

/** Commands that are not runs: they change state and print what they did. */
export const OPERATOR_COMMANDS = ["rotate-keys"] as const;
export const COMMANDS: readonly string[] = [...CLI_JOBS.map((d) => d.kind), ...OPERATOR_COMMANDS];
export type Command = string;

export const USAGE = `usage: npm run job -- <${COMMANDS.join(" | ")}> [--context ID] [--since ISO] [--file scores.csv|json] [--dry-run] [--json]`;

export class UsageError extends Error {}

export interface CliArgs {
  command: Command;
  context?: string;
  since?: string;
  file?: string;
  dryRun: boolean;
  json: boolean;
}

export function parseCliArgs(argv: string[]): CliArgs {
  if (argv.some((a) => a === "--help" || a === "-h")) throw new UsageError(USAGE);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        context: { type: "string" },
        since: { type: "string" },
        file: { type: "string" },
        "dry-run": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const [command, ...rest] = parsed.positionals;
  if (!command || !COMMANDS.includes(command)) throw new UsageError(USAGE);
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}\n${USAGE}`);
  const v = parsed.values;
  if (v.since !== undefined && Number.isNaN(Date.parse(v.since))) throw new UsageError(`--since must be an ISO date-time`);
  return { command, context: v.context, since: v.since, file: v.file, dryRun: v["dry-run"] ?? false, json: v.json ?? false };
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
  // Spreadsheets save "CSV UTF-8" with a byte order mark: it would glue onto the first header.
  const text = readFileSync(path, "utf8").replace(/^\uFEFF/, "");
  if (/\.json$/i.test(path) || /^\s*[[{]/.test(text)) {
    const json = JSON.parse(text) as unknown;
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

export interface ResolvedContext {
  resourceLinkRef: string;
  contextRef: string;
  platformId: string;
  contextId: string;
  resourceLinkId: string;
}

export async function resolveContextArg(db: Db, id: string): Promise<ResolvedContext> {
  if (!UUID.test(id)) throw new UsageError(`--context takes an id from /api/status (a UUID), got "${id}"`);
  const rows = await rowsOf<ResolvedContext>(db, sql`SELECT rl.id AS "resourceLinkRef", c.id AS "contextRef", p.platform_id AS "platformId",
      c.context_id AS "contextId", rl.resource_link_id AS "resourceLinkId"
    FROM resource_links rl JOIN contexts c ON c.id = rl.context_ref JOIN platforms p ON p.id = c.platform_ref
    WHERE rl.id = ${id}::uuid`);
  if (!rows[0]) throw new UsageError(`no context with id ${id}`);
  return rows[0];
}

/** The job's payload from the arguments: `--context` resolved, `--file` read, checked by the job's schema. */
export async function cliPayload(db: Db, args: CliArgs): Promise<object> {
  const def = jobOfKind(args.command);
  const input: CliInput = {
    context: args.context ? await resolveContextArg(db, args.context) : undefined,
    since: args.since ? new Date(args.since).toISOString() : undefined,
    scores: args.file ? readScoresFile(args.file) : undefined,
    dryRun: args.dryRun,
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

/** Runs the job here, to its end, whatever the engine (the command line is an operator's run). */
export async function runCliJob(db: Db, args: CliArgs, d: Dispatcher = dispatcher()): Promise<InlineRun> {
  return d.runHere(args.command, await cliPayload(db, args), "cli");
}

export function exitCodeFor(result: { outcome: string }): number {
  return result.outcome === "completed" || result.outcome === "partial" ? 0 : 1;
}

export function formatSummary(r: InlineRun): string {
  const lines = [
    `${r.kind} ${r.outcome} (run ${r.runId})`,
    `  sent ${r.counts.sent}, skipped ${r.counts.skipped}, failed ${r.counts.failed}, pending ${r.counts.pending}`,
    `  started ${r.startedAt}, finished ${r.finishedAt ?? "-"}`,
  ];
  const b = r.backfill as BackfillOutcome | undefined;
  if (b) {
    if (b.dryRun) {
      lines.push(`  dry run: would send ${b.wouldSend ?? 0} score(s)`);
      for (const row of b.rows ?? []) lines.push(`    ${row.platformId} ${row.contextId} ${row.resourceLinkId} ${row.userId}: ${row.scoreGiven ?? "-"}/${row.scoreMaximum ?? "-"} (${row.state})`);
    } else lines.push(`  revised ${b.revised} score(s) across ${b.contexts} context(s)`);
  }
  return lines.join("\n");
}

export { UnknownTripleError };
