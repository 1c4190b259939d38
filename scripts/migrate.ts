/** `npm run db:migrate`: applies drizzle/ to DATABASE_URL (or POSTGRES_URL, or the embedded PGlite). */
import { env, EnvError } from "../lib/env";
import { openDatabase } from "../lib/db/client";
import { DataDirLockedError } from "../lib/db/lock";

try {
  const { database } = env();
  // @vercel/postgres speaks to the same Postgres; node-postgres has the migrator.
  const target = database.driver === "vercel-postgres" ? { driver: "node-postgres" as const, url: database.url } : database;
  const handle = await openDatabase(target, { migrate: true });
  await handle.close();
  console.log(`migrations applied (${target.driver})`);
} catch (error) {
  if (error instanceof EnvError || error instanceof DataDirLockedError) {
    console.error(error.message);
  } else {
    console.error(`migration failed: ${(error as Error).message}`);
  }
  process.exit(1);
}
