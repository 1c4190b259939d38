/**
 * Runs once when the server starts: the configuration is checked before any request (production
 * refuses to start on a bad environment, one line per variable), and the embedded PGlite is opened
 * and migrated so the first launch does not pay for it.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { env, EnvError } = await import("./lib/env");
  try {
    const config = env();
    if (config.database.driver === "pglite") {
      const { getDbHandle } = await import("./lib/db/client");
      await getDbHandle();
    }
    if (config.emulator && !config.production) {
      const port = process.env.PORT ?? "3000";
      console.log(`\n  Gradesync: open the LMS simulator at http://127.0.0.1:${port}/emulator/lms to launch as a teacher or a student.\n`);
    }
  } catch (error) {
    if (error instanceof EnvError) {
      console.error(error.message);
      process.exit(1);
    }
    const { DataDirLockedError } = await import("./lib/db/lock");
    if (error instanceof DataDirLockedError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
