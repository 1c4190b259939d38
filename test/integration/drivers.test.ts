/**
 * The three drivers behind one factory answer the same queries against the same schema:
 * node-postgres and @vercel/postgres (through a WebSocket-to-TCP proxy, as Neon serves it) on the
 * machine's Postgres; PGlite on a data directory, migrated at open and locked to one process.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase, type DbHandle } from "@/lib/db/client";
import { DataDirLockedError, lockFileFor } from "@/lib/db/lock";
import { openVercelPostgres } from "@/lib/db/vercel";
import { platforms } from "@/lib/db/schema";
import { createTestDb } from "../support/db";
import { startWsProxy } from "../support/ws-proxy";

async function roundTrip(handle: DbHandle) {
  await handle.db.insert(platforms).values({ platformId: `drv-${handle.driver}`, name: "Driver test" }).onConflictDoNothing();
  const rows = await handle.db.select().from(platforms);
  const { rows: now } = (await handle.db.execute(sql`select 1 + 1 as two`)) as unknown as { rows: { two: number }[] };
  return { names: rows.map((r) => r.platformId), two: Number(now[0].two) };
}

describe("PGlite on a data directory", () => {
  let dir: string;
  beforeAll(() => void (dir = mkdtempSync(path.join(os.tmpdir(), "gradesync-drv-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("migrates at open, answers, and refuses a second opener while the first holds it", async () => {
    const dataDir = path.join(dir, "pglite");
    const first = await openDatabase({ driver: "pglite", dir: dataDir });
    expect(await roundTrip(first)).toEqual({ names: ["drv-pglite"], two: 2 });
    await expect(openDatabase({ driver: "pglite", dir: dataDir })).rejects.toThrow(/already open in this process/);
    await first.close();
    // A live process other than us holds it: refuse, naming what to do.
    writeFileSync(lockFileFor(dataDir), String(process.ppid));
    const err = await openDatabase({ driver: "pglite", dir: dataDir }).catch((e) => e);
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect(err.message).toMatch(/stop that process, or run with DATABASE_URL/);
    // A dead owner's lock is stale: taken over, and the data survived.
    writeFileSync(lockFileFor(dataDir), "999999999");
    const again = await openDatabase({ driver: "pglite", dir: dataDir });
    expect((await roundTrip(again)).names).toEqual(["drv-pglite"]);
    await again.close();
    // A crashed owner whose pid this process now has (a restarted container): stale too.
    writeFileSync(lockFileFor(dataDir), String(process.pid));
    const reused = await openDatabase({ driver: "pglite", dir: dataDir });
    expect((await roundTrip(reused)).names).toEqual(["drv-pglite"]);
    await reused.close();
  });
});

describe("Postgres drivers", () => {
  let base: DbHandle;
  let url: string;
  beforeAll(async () => {
    if (inject("testDb").kind !== "postgres") return;
    base = await createTestDb();
    const { rows } = (await base.db.execute(sql`select current_database() as name`)) as unknown as { rows: { name: string }[] };
    const u = new URL((inject("testDb") as { adminUrl: string }).adminUrl);
    u.hostname = "localhost"; // @vercel/postgres accepts only Neon pooler hosts or localhost
    u.pathname = `/${rows[0].name}`;
    url = u.toString();
  });
  afterAll(async () => base?.close());

  it.runIf(process.env.DATABASE_URL)("node-postgres answers through the factory", async () => {
    const handle = await openDatabase({ driver: "node-postgres", url });
    expect(await roundTrip(handle)).toMatchObject({ two: 2 });
    await handle.close();
  });

  it.runIf(process.env.DATABASE_URL)("@vercel/postgres answers through a WebSocket-to-TCP proxy", async () => {
    const proxy = await startWsProxy();
    try {
      const handle = await openVercelPostgres(url, { wsProxy: proxy.address });
      const result = await roundTrip(handle);
      expect(result.two).toBe(2);
      expect(result.names).toContain("drv-vercel-postgres");
      await handle.db.transaction(async (tx) => {
        await tx.insert(platforms).values({ platformId: "drv-tx" });
      });
      expect((await handle.db.select().from(platforms)).map((p) => p.platformId)).toContain("drv-tx");
      await handle.close();
      expect(proxy.connections()).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  });
});
