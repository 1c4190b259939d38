/**
 * `npm run job -- <push-grades | refresh-rosters | backfill | retry-failed | rotate-keys> [--context ID]
 * [--since ISO] [--file scores.csv|json] [--dry-run] [--json]` — runs a job inline in this process.
 * With the embedded PGlite the data directory is locked by a running dev server: then this refuses
 * with the lock's message (never opens the directory twice).
 */
import { sql } from "drizzle-orm";
import { closeDb, getDb } from "../lib/db/client";
import { rowsOf } from "../lib/db/rows";
import { DataDirLockedError } from "../lib/db/lock";
import { EnvError } from "../lib/env";
import { exitCodeFor, formatSummary, parseCliArgs, runCliJob, UnknownTripleError, UsageError } from "../lib/jobs/cli";

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

async function main(): Promise<number> {
  const args = parseCliArgs(process.argv.slice(2));
  const db = await getDb();
  if (args.command === "rotate-keys") {
    const { rotateKeys } = await import("../lib/crypto/rotate");
    const r = await rotateKeys(db);
    console.log(args.json ? JSON.stringify(r) : `rotate-keys: ${Object.entries(r).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    return 0;
  }
  const stop = args.json ? () => undefined : progress(db, args.command);
  try {
    const result = await runCliJob(db, args);
    stop();
    console.log(args.json ? JSON.stringify(result, null, 2) : formatSummary(result, args));
    return exitCodeFor(result);
  } finally {
    stop();
  }
}

let code = 1;
try {
  code = await main();
} catch (error) {
  if (error instanceof UsageError || error instanceof EnvError || error instanceof DataDirLockedError) console.error(error.message);
  else if (error instanceof UnknownTripleError)
    console.error(`${error.message}:\n${error.unknown.map((u) => `  #${u.index}: ${u.platformId} / ${u.contextId} / ${u.resourceLinkId}`).join("\n")}`);
  else console.error(`job failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  code = 1;
} finally {
  await closeDb().catch(() => undefined);
}
process.exit(code);
