/** Builds the push engine's dependencies from the process (tests tune timings and crash hooks). */
import { getDb } from "../db/client";
import { env } from "../env";
import { gradeClient } from "../grades/client";
import { platformGate } from "../grades/gate";
import type { PushDeps } from "../grades/push";

export interface PushTuning {
  leaseMs?: number;
  backoffBaseMs?: number;
  /** Longest wait inside one run for rows to become due again (else the run ends, rows pending). */
  maxWaitMs?: number;
  hook?: PushDeps["hook"];
}

const holder = globalThis as unknown as { __gradesyncPushTuning?: PushTuning };

export function setPushTuningForTests(tuning: PushTuning | undefined): void {
  holder.__gradesyncPushTuning = tuning;
}

export function pushTuning(): PushTuning & { maxWaitMs: number } {
  const t = holder.__gradesyncPushTuning;
  return { ...t, maxWaitMs: t?.maxWaitMs ?? 30_000 };
}

export async function pushDeps(runId: string | null, mode: "inline" | "inngest" = "inline"): Promise<PushDeps> {
  const t = pushTuning();
  return {
    db: await getDb(),
    client: gradeClient(),
    gate: platformGate(),
    runId,
    // Inline, the gate bounds a platform across every job of this process. Under Inngest, runs may
    // live in many processes: the platform's concurrency key bounds steps, so each step sends one at a time.
    parallel: mode === "inline" ? env().platformConcurrency : 1,
    leaseMs: t.leaseMs,
    backoffBaseMs: t.backoffBaseMs,
    maxHoldWaitMs: mode === "inline" ? t.maxWaitMs : 1_000,
    hook: t.hook,
  };
}
