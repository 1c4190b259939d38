// Every test starts from a known configuration: no .data/ secrets, no stray env from the shell.
import { setEnvForTests } from "@/lib/env";
import { testEnv } from "./env";

setEnvForTests(testEnv());
