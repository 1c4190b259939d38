/**
 * `npm run job -- <command> [--context ID] [--since ISO] [--file scores.csv|json] [--dry-run] [--json]`
 * (lib/jobs/cli.ts lists the commands) — runs a command inline in this process. With the embedded
 * PGlite held by the running app (`npm run dev`, or `next start` with ADMIN_TOKEN), the app runs it
 * instead (lib/jobs/cli-remote.ts) and this prints its answer the same way; held by anything else,
 * this refuses with the lock's message (never opens the directory twice).
 */
import { sql } from "drizzle-orm";
import { alertsIdle } from "../lib/alerts";
import { closeDb, getDb } from "../lib/db/client";
import { rowsOf } from "../lib/db/rows";
import { env } from "../lib/env";
import { cliErrorMessage, exitCodeOf, OPERATOR_COMMANDS, parseCliArgs, printResult, runCommand, withFileRead, type CommandResult } from "../lib/jobs/cli";
import { askRunningApp, CliRemoteError } from "../lib/jobs/cli-remote";

process.env.GRADESYNC_LOG ??= "silent";

function progress(db: Awaited<ReturnType<typeof getDb>>, kind: string): () => void {
  if (!process.stderr.isTTY) return () => undefined;
  const tick = async () => {
    const rows = await rowsOf<{ outcome: string; n: number }>(db, sql`SELECT a.outcome, count(*)::int AS n FROM sync_attempts a
        WHERE a.run_id = (SELECT id FROM sync_runs WHERE kind = ${kind} AND outcome = 'running' ORDER BY started_at DESC LIMIT 1)
        GROUP BY a.outcome`);
    const by = Object.fromEntries(rows.map((r) => [r.outcome, r.n]));
    process.stderr.write(`\r${kind}: sent ${by.sent ?? 0}, skipped ${by.skipped ?? 0}, retrying ${by.retry_later ?? 0}, failed ${by.failed ?? 0}   `);
  };
  const timer = setInterval(() => void tick().catch(() => undefined), 500);
  return () => {
    clearInterval(timer);
    process.stderr.write("\r\x1b[K");
  };
}

/** The command's result from the app holding the embedded database, if one does. */
async function throughApp(argv: string[], args: ReturnType<typeof parseCliArgs>): Promise<CommandResult | undefined> {
  const config = env();
  if (config.database.driver !== "pglite") return undefined;
  let asking = false;
  try {
    return await askRunningApp(config.database.dir, argv, args, {
      adminToken: config.adminToken,
      onAsking: (app) => {
        if (!process.stderr.isTTY) return;
        asking = true;
        process.stderr.write(`${args.command}: running in the app at ${app.url} (pid ${app.pid})…`);
      },
    });
  } finally {
    if (asking) process.stderr.write("\r\x1b[K");
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const args = withFileRead(parseCliArgs(argv));
  const remote = await throughApp(argv, args);
  if (remote) {
    console.log(printResult(args, remote));
    return exitCodeOf(args, remote);
  }
  const db = await getDb();
  const stop = args.json || OPERATOR_COMMANDS.includes(args.command) ? () => undefined : progress(db, args.command);
  try {
    const result = await runCommand(db, args);
    stop();
    console.log(printResult(args, result));
    return exitCodeOf(args, result);
  } finally {
    stop();
  }
}

let code = 1;
try {
  code = await main();
} catch (error) {
  const message = error instanceof CliRemoteError ? error.message : cliErrorMessage(error);
  console.error(message ?? `job failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  code = 1;
} finally {
  // A run that ended here asked for an alerts evaluation in the background: let it finish (bounded).
  await alertsIdle(10_000);
  await closeDb().catch(() => undefined);
}
process.exit(code);
