/**
 * Migrates once per test run: a PGlite dump that each test file loads (~0.6 s instead of ~3.5 s),
 * or, with DATABASE_URL, a Postgres template database each test file copies.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    testDb: { kind: "pglite"; dump: string } | { kind: "postgres"; adminUrl: string; template: string };
  }
}

export default async function setup(project: TestProject) {
  const migrationsFolder = path.resolve(import.meta.dirname, "../../drizzle");
  const url = process.env.DATABASE_URL;
  if (url) {
    const { default: pg } = await import("pg");
    const { drizzle } = await import("drizzle-orm/node-postgres");
    const { migrate } = await import("drizzle-orm/node-postgres/migrator");
    const template = `gs_tpl_${process.pid}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${template}`);
    await admin.query(`CREATE DATABASE ${template}`);
    const tplUrl = new URL(url);
    tplUrl.pathname = `/${template}`;
    const pool = new pg.Pool({ connectionString: tplUrl.toString(), max: 1 });
    await migrate(drizzle({ client: pool }), { migrationsFolder });
    await pool.end();
    project.provide("testDb", { kind: "postgres", adminUrl: url, template });
    return async () => {
      const { rows } = await admin.query<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE datname LIKE 'gs\\_t\\_${process.pid}\\_%' OR datname = $1`,
        [template],
      );
      for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
      await admin.end();
    };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  const client = await PGlite.create();
  await migrate(drizzle({ client }), { migrationsFolder });
  const blob = await client.dumpDataDir("none");
  await client.close();
  const dir = mkdtempSync(path.join(os.tmpdir(), "gradesync-test-"));
  const dump = path.join(dir, "migrated.tar");
  writeFileSync(dump, Buffer.from(await blob.arrayBuffer()));
  project.provide("testDb", { kind: "pglite", dump });
  return () => rmSync(dir, { recursive: true, force: true });
}
