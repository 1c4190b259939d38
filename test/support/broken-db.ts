/** For "an unexpected error answers a JSON 500 and says nothing else" tests of the API routes. */
import { expect } from "vitest";
import type { DbHandle } from "@/lib/db/client";

/** A database that fails every call, with a message that must never reach the client. */
export const brokenDb: DbHandle = {
  db: new Proxy(
    {},
    // Not thenable (`await getDb()` must resolve to it); every method rejects.
    { get: (_t, k) => (k === "then" ? undefined : () => Promise.reject(new Error("db exploded: postgres://u:hunter2@db/prod"))) },
  ) as never,
  driver: "node-postgres",
  close: async () => undefined,
};

export async function expectJson500(res: Response): Promise<void> {
  expect(res.status).toBe(500);
  expect(res.headers.get("content-type")).toMatch(/application\/json/);
  const text = await res.text();
  expect(JSON.parse(text)).toEqual({ error: "internal_error" });
  expect(text).not.toMatch(/hunter2|exploded|at .*\.ts/);
}

/**
 * A database that is down: every query, however it is built (drizzle's chained builders included),
 * rejects when awaited — and only then, so nothing rejects unobserved.
 */
export const downDb: DbHandle = (() => {
  const refusal = () => new Error("db exploded: postgres://u:hunter2@db/prod");
  const chain: unknown = new Proxy(() => undefined, {
    get: (_t, k) => (k === "then" ? (_ok: unknown, fail: (e: Error) => void) => fail(refusal()) : chain),
    apply: () => chain,
  });
  return {
    db: new Proxy({}, { get: (_t, k) => (k === "then" ? undefined : chain) }) as never,
    driver: "node-postgres",
    close: async () => undefined,
  };
})();
