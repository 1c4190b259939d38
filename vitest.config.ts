import path from "node:path";
import { defineConfig } from "vitest/config";

const alias = { "@": path.resolve(import.meta.dirname) };

export default defineConfig({
  resolve: { alias },
  test: {
    // Tests that provoke errors on purpose (Inngest's "function error"/"step error", refused
    // requests' log lines) would print them on every run: console output is shown for failing
    // tests only, where it helps.
    silent: "passed-only",
    projects: [
      {
        resolve: { alias },
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], setupFiles: ["test/support/setup.ts"] },
      },
      {
        resolve: { alias },
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          setupFiles: ["test/support/setup.ts"],
          globalSetup: ["test/support/global-db.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Each file holds a PGlite (~100+ MB); two cores, two workers. A project with its own
          // worker limit runs in its own group, after the unit tests.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        resolve: { alias },
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 240_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
