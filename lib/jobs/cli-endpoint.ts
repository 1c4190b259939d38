/**
 * How the command line finds the app that holds the embedded database: a file beside the data
 * directory (`.data/pglite.app.json` by default, next to its lock `.data/pglite.lock`), written by the
 * app at start once it holds the lock — its pid, the URL it listens on and, in development only, a
 * token for the command line, new at every start. Mode 0600: the token is a secret. It goes when the
 * app exits; one left by a crash names a pid that no longer holds the lock, and is ignored.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

export const endpointSchema = z.object({
  pid: z.number().int().positive(),
  url: z.url(),
  /** Development only: the bearer the app takes from the loopback for this start. */
  token: z.string().min(32).max(256).optional(),
});
export type Endpoint = z.infer<typeof endpointSchema>;

export function endpointFileFor(dir: string): string {
  return `${dir.replace(/[\\/]+$/, "")}.app.json`;
}

/** The endpoint an app wrote for this data directory, if a readable one is there. */
export function readEndpoint(dir: string): Endpoint | undefined {
  try {
    const parsed = endpointSchema.safeParse(JSON.parse(readFileSync(endpointFileFor(dir), "utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the endpoint (created 0600, moved into place whole); returns what removes it again. */
export function writeEndpoint(dir: string, endpoint: Endpoint): () => void {
  const file = endpointFileFor(dir);
  mkdirSync(path.dirname(file), { recursive: true });
  const aside = `${file}.${process.pid}.tmp`;
  writeFileSync(aside, JSON.stringify(endpoint), { mode: 0o600 });
  renameSync(aside, file);
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    process.off("exit", remove);
    // Only our own: a newer app may have written it since.
    if (readEndpoint(dir)?.pid === endpoint.pid) rmSync(file, { force: true });
  };
  process.on("exit", remove);
  return remove;
}

const holder = globalThis as unknown as { __gradesyncCliToken?: string; __gradesyncCliEndpoint?: () => void };

/**
 * At start, once this process holds the embedded database's directory: writes where the command line
 * reaches it, with a fresh token in development (none in production: ADMIN_TOKEN or nothing).
 */
export function announceCliEndpoint(input: { dir: string; url: string; production: boolean }): void {
  const token = input.production ? undefined : randomBytes(32).toString("base64url");
  holder.__gradesyncCliEndpoint?.();
  holder.__gradesyncCliToken = token;
  holder.__gradesyncCliEndpoint = writeEndpoint(input.dir, { pid: process.pid, url: input.url, token });
}

/** Forgets the development token and removes the endpoint file (tests; an app removes it on exit). */
export function withdrawCliEndpoint(): void {
  holder.__gradesyncCliEndpoint?.();
  holder.__gradesyncCliEndpoint = undefined;
  holder.__gradesyncCliToken = undefined;
}

/** This start's development token, if it announced one. */
export function devToken(): string | undefined {
  return holder.__gradesyncCliToken;
}
