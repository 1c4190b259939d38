/**
 * Server start, Node runtime: the configuration is checked before any request (production refuses
 * to start on a bad environment, one line per variable), and the embedded PGlite is opened and
 * migrated so the first launch does not pay for it. In development the pages are compiled in the
 * background right after start (lib/dev-warm-up.ts). Holding PGlite's directory, the app tells
 * `npm run job` where to reach it (lib/jobs/cli-endpoint.ts; the command then runs here: lib/jobs/cli-app.ts).
 */
import { env, EnvError } from "./lib/env";
import { getDbHandle } from "./lib/db/client";
import { DataDirLockedError } from "./lib/db/lock";
import { announceCliEndpoint } from "./lib/jobs/cli-endpoint";
import { warmUp, WARM_UP_PATHS } from "./lib/dev-warm-up";

/** Where this server listens, as Next chose it (a busy port moves it on in development). */
function appUrl(): string {
  const origin = process.env.__NEXT_PRIVATE_ORIGIN;
  if (origin && URL.canParse(origin)) return new URL(origin).origin;
  return `http://127.0.0.1:${process.env.PORT ?? "3000"}`;
}

try {
  const config = env();
  if (config.database.driver === "pglite") {
    await getDbHandle();
    announceCliEndpoint({ dir: config.database.dir, url: appUrl(), production: config.production });
  }
  if (config.emulator && !config.production) {
    const port = process.env.PORT ?? "3000";
    console.log(`\n  Gradesync: open the LMS simulator at http://127.0.0.1:${port}/emulator/lms to launch as a teacher or a student.\n`);
  }
  // `next dev` compiles a page on its first request: do it now, in the background, not on the first click.
  if (process.env.NODE_ENV === "development") {
    const paths = WARM_UP_PATHS.filter((p) => config.emulator || !p.path.startsWith("/emulator"));
    void warmUp({ origin: appUrl(), paths });
  }
} catch (error) {
  if (!(error instanceof EnvError || error instanceof DataDirLockedError)) throw error;
  console.error(error.message);
  process.exit(1);
}
