/**
 * Server start, Node runtime: the configuration is checked before any request (production refuses
 * to start on a bad environment, one line per variable), and the embedded PGlite is opened and
 * migrated so the first launch does not pay for it.
 */
import { env, EnvError } from "./lib/env";
import { getDbHandle } from "./lib/db/client";
import { DataDirLockedError } from "./lib/db/lock";

try {
  const config = env();
  if (config.database.driver === "pglite") await getDbHandle();
  if (config.emulator && !config.production) {
    const port = process.env.PORT ?? "3000";
    console.log(`\n  Gradesync: open the LMS simulator at http://127.0.0.1:${port}/emulator/lms to launch as a teacher or a student.\n`);
  }
} catch (error) {
  if (!(error instanceof EnvError || error instanceof DataDirLockedError)) throw error;
  console.error(error.message);
  process.exit(1);
}
