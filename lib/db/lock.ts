/**
 * A PGlite data directory may be opened by one process only. The lock file beside it names the
 * owner's pid; a live owner makes every other opener refuse with a message saying what to do.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";

export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `The embedded database ${path.relative(process.cwd(), dir) || dir} is open in another process (pid ${pid}), ` +
        `probably "npm run dev". PGlite allows one process per data directory: stop that process, ` +
        `or run with DATABASE_URL pointing at a Postgres server.`,
    );
    this.name = "DataDirLockedError";
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

// Lock files this process holds. A lock naming our own pid that is not in here was left by a
// crashed process whose pid we reuse (containers hand out the same pids after a restart): stale.
const held = ((globalThis as unknown as { __gradesyncDirLocks?: Set<string> }).__gradesyncDirLocks ??= new Set());

export function lockFileFor(dir: string): string {
  return `${dir.replace(/[\\/]+$/, "")}.lock`;
}

/** The live process holding the directory's lock, if any (a stale lock names nobody). */
export function lockOwner(dir: string): number | undefined {
  let owner: number;
  try {
    owner = Number(readFileSync(lockFileFor(dir), "utf8").trim());
  } catch {
    return undefined;
  }
  return Number.isInteger(owner) && owner > 0 && alive(owner) ? owner : undefined;
}

/** Takes the lock or throws DataDirLockedError; returns the release function. */
export function acquireDirLock(dir: string): () => void {
  const file = lockFileFor(dir);
  mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(file);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        held.delete(file);
        process.off("exit", release);
        rmSync(file, { force: true });
      };
      process.on("exit", release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(readFileSync(file, "utf8").trim());
      if (owner === process.pid && held.has(file)) throw new Error(`${dir} is already open in this process`);
      if (owner !== process.pid && Number.isInteger(owner) && owner > 0 && alive(owner)) throw new DataDirLockedError(dir, owner);
      rmSync(file, { force: true }); // stale: its owner died without cleaning up
    }
  }
  throw new Error(`Could not lock ${dir}`);
}
