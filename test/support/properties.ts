/**
 * Property-based tests (fast-check) in `npm test`: a fixed seed so a run is repeatable, a bounded
 * number of cases so the suite stays fast, and on failure the seed and the path to replay it.
 * GRADESYNC_FC_SEED / GRADESYNC_FC_RUNS override them, e.g. to explore with other seeds locally.
 */
import type { Parameters } from "fast-check";

export const PROPERTY_SEED = Number(process.env.GRADESYNC_FC_SEED ?? 20261127);

export function propertyOptions<T = unknown>(name: string, numRuns = 100): Parameters<T> {
  const runs = Number(process.env.GRADESYNC_FC_RUNS ?? numRuns);
  return {
    seed: PROPERTY_SEED,
    numRuns: runs,
    // fast-check's report already names seed and path; this says how to replay with this suite.
    reporter: (details) => {
      if (!details.failed) return;
      throw new Error(
        `property "${name}" failed (seed ${details.seed}, path "${details.counterexamplePath ?? ""}"; replay: GRADESYNC_FC_SEED=${details.seed})\n` +
          `counterexample: ${safeJson(details.counterexample)}\n${details.errorInstance instanceof Error ? details.errorInstance.message : ""}`,
      );
    },
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)).slice(0, 2000);
  } catch {
    return String(value).slice(0, 2000);
  }
}
