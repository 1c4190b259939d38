// Every test starts from a known configuration: no .data/ secrets, no stray env from the shell.
import { setEnvForTests } from "@/lib/env";
import { testEnv } from "./env";

setEnvForTests(testEnv());

// Log lines are JSON on stdout; tests that read them (secrets.test.ts) turn them back on.
process.env.GRADESYNC_LOG ??= "silent";
