/**
 * What a job's handler works with, handed in rather than reached for: the database, the LTIAAS
 * client, the per-platform gate and the timings. The process builds them from its configuration;
 * tests and benchmarks pass their own (a client that counts calls, quick retries, a fresh gate).
 */
import { getDb, type Db } from "../db/client";
import { env } from "../env";
import { platformGate, type PlatformGate } from "../ltiaas/gate";
import { DEFAULT_PUSH_TUNING, type PushTuning } from "../grades/push";
import { ltiaas, type LtiaasClient } from "../ltiaas";
import { DEFAULT_ROSTER_TUNING, type RosterTuning } from "../roster/tuning";

export type Engine = "inline" | "inngest";

export interface JobDeps {
  /** Which engine runs the handler: a step under Inngest may live in any process. */
  engine: Engine;
  db: Db;
  ltiaas: LtiaasClient;
  /** Requests in flight per platform in this process (shared by every job, like the LMS's limit). */
  gate: PlatformGate;
  push: PushTuning;
  roster: RosterTuning;
  platformConcurrency: number;
  rosterMaxAgeHours: number;
}

/** What a caller may replace; the rest comes from the process. */
export type DepsOverrides = Partial<Omit<JobDeps, "engine" | "push" | "roster">> & {
  push?: Partial<PushTuning>;
  roster?: Partial<RosterTuning>;
};

export async function jobDeps(engine: Engine, overrides: DepsOverrides = {}): Promise<JobDeps> {
  const e = env();
  return {
    engine,
    db: overrides.db ?? (await getDb()),
    ltiaas: overrides.ltiaas ?? ltiaas(),
    gate: overrides.gate ?? platformGate(),
    push: { ...DEFAULT_PUSH_TUNING, ...overrides.push },
    roster: { ...DEFAULT_ROSTER_TUNING, ...overrides.roster },
    platformConcurrency: overrides.platformConcurrency ?? e.platformConcurrency,
    rosterMaxAgeHours: overrides.rosterMaxAgeHours ?? e.rosterMaxAgeHours,
  };
}
