/**
 * Seeds triples for grade tests without going through /launch: platform, context, resource link and
 * a serviceKey the emulator issued, sealed for its triple. Also points the process at the emulator
 * and turns off the debounced push timers (tests push explicitly).
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach } from "vitest";
import type { Db } from "@/lib/db/client";
import { seal } from "@/lib/crypto/seal";
import type { Emulator } from "@/lib/emulator";
import { env, setEnvForTests } from "@/lib/env";
import { PlatformGate } from "@/lib/ltiaas/gate";
import type { PushTuning } from "@/lib/grades/push";
import { createDispatcher, type Dispatcher, type DispatcherOptions } from "@/lib/jobs/dispatch";
import { jobDeps, type DepsOverrides, type JobDeps } from "@/lib/jobs/deps";
import { inlineStep, type InlineRun } from "@/lib/jobs/inline";
import { executeJob } from "@/lib/jobs/execute";
import { pushContextJob, type ContextTotals } from "@/lib/jobs/definitions/push-context";
import { createFunctions } from "@/lib/inngest/functions";
import { testEnv } from "./env";

export interface SeedInput {
  platformId?: string;
  contextId: string;
  resourceLinkId: string;
  title?: string;
  /** Put into the launch (services.assignmentAndGrades.lineItemId). */
  lineItemId?: string;
  /** Create a line item in the emulator first and use it as the launch's. */
  withLineItem?: boolean;
  productFamilyCode?: string;
  /** Learners learner-1 … learner-N enrolled in the emulator's course (default 50). */
  learners?: number;
}

export interface Seeded {
  platformRef: string;
  contextRef: string;
  resourceLinkRef: string;
  serviceKey: string;
  lineItemId?: string;
  platformId: string;
  contextId: string;
  resourceLinkId: string;
}

const one = async <T>(db: Db, q: ReturnType<typeof sql>) => ((await db.execute(q)) as unknown as { rows: T[] }).rows[0];

export async function seedTriple(db: Db, emulator: Emulator, input: SeedInput): Promise<Seeded> {
  const platformId = input.platformId ?? "platform-1";
  let lineItemId = input.lineItemId;
  // A launch first: it fixes the platform in the emulator and issues the serviceKey.
  const launch = () =>
    emulator.createLaunch({
      platformId,
      contextId: input.contextId,
      resourceLinkId: input.resourceLinkId,
      resourceLinkTitle: input.title,
      productFamilyCode: input.productFamilyCode,
      user: { id: "teacher-1" },
      roles: ["Instructor"],
      lineItemId,
    });
  let { serviceKey } = launch();
  const n = input.learners ?? 50;
  emulator.setRoster(platformId, input.contextId, Array.from({ length: n }, (_, i) => ({ userId: `learner-${i + 1}`, roles: ["Learner"] })));
  if (input.withLineItem && !lineItemId) {
    lineItemId = emulator.addLineItem(platformId, input.contextId, { label: input.title ?? "Lab", scoreMaximum: 10, resourceLinkId: input.resourceLinkId });
    ({ serviceKey } = launch());
  }
  if (!serviceKey) throw new Error("emulator issued no serviceKey");
  const p = await one<{ id: string }>(db, sql`INSERT INTO platforms (platform_id, product_family_code) VALUES (${platformId}, ${input.productFamilyCode ?? "canvas"})
    ON CONFLICT (platform_id) DO UPDATE SET updated_at = now() RETURNING id`);
  const c = await one<{ id: string }>(db, sql`INSERT INTO contexts (platform_ref, context_id, title) VALUES (${p.id}::uuid, ${input.contextId}, ${"Course " + input.contextId})
    ON CONFLICT (platform_ref, context_id) DO UPDATE SET updated_at = now() RETURNING id`);
  const rl = await one<{ id: string }>(db, sql`INSERT INTO resource_links (context_ref, resource_link_id, title, launch_line_item_id)
    VALUES (${c.id}::uuid, ${input.resourceLinkId}, ${input.title ?? null}, ${lineItemId ?? null})
    ON CONFLICT (context_ref, resource_link_id) DO UPDATE SET launch_line_item_id = excluded.launch_line_item_id RETURNING id`);
  const triple = { platformId, contextId: input.contextId, resourceLinkId: input.resourceLinkId };
  const sealed = await seal(serviceKey, triple);
  await db.execute(sql`INSERT INTO service_keys (resource_link_ref, sealed, key_id, has_ags, has_nrps)
    VALUES (${rl.id}::uuid, ${sealed.sealed}, ${sealed.keyId}, true, true)
    ON CONFLICT (resource_link_ref) DO UPDATE SET sealed = excluded.sealed, key_id = excluded.key_id, state = 'active', state_reason = NULL`);
  return { platformRef: p.id, contextRef: c.id, resourceLinkRef: rl.id, serviceKey, lineItemId, ...triple };
}

/** Score entries for `n` learners of a seeded triple. */
export function scoresFor(s: Seeded, n: number, score = (i: number) => i % 11, extra: Record<string, unknown> = {}) {
  return Array.from({ length: n }, (_, i) => ({
    platformId: s.platformId,
    contextId: s.contextId,
    resourceLinkId: s.resourceLinkId,
    userId: `learner-${i + 1}`,
    scoreGiven: score(i),
    scoreMaximum: 10,
    comment: `c${i + 1}`,
    ...extra,
  }));
}

/** Jobs as a grade test runs them: its dependencies handed in, fresh for every test. */
export interface GradeEnv {
  /** This test's dependency overrides (a fresh platform gate, quick retries, the client if replaced). */
  readonly overrides: DepsOverrides;
  /** Replaces some dependencies for the rest of this test (a client that counts, other timings). */
  configure(o: DepsOverrides): void;
  deps(engine?: "inline" | "inngest"): Promise<JobDeps>;
  /** An inline dispatcher with this test's dependencies ("soon" waits as configured). */
  jobs(opts?: Omit<DispatcherOptions, "deps">): Dispatcher;
  /** Runs a job here to its end, as the command line does. */
  run(kind: string, payload?: object, trigger?: string): Promise<InlineRun>;
  /** Pushes one context now, as a run of its own (what Sync now does inline). */
  push(contextRef: string): Promise<InlineRun>;
  /**
   * A push of one context as another process would run it: no shared per-context lock. `deps`
   * (default: this test's now) lets it keep timings taken before the test changed them.
   */
  pushElsewhere(contextRef: string, deps?: JobDeps): Promise<ContextTotals>;
  /** The Inngest functions with this test's dependencies. */
  functions(): ReturnType<typeof createFunctions>;
}

/**
 * For grade tests: the process talks to this emulator, jobs get quick retries and a fresh platform
 * gate per test, and nothing is pushed unless the test asks. Call after useEmulator().
 */
export function useGradeEnv(emu: { readonly url: string }, tuning: Partial<PushTuning> = {}, envOverrides: Record<string, string> = {}): GradeEnv {
  let overrides: DepsOverrides = {};
  const fresh = (): DepsOverrides => ({ gate: new PlatformGate(env().platformConcurrency), push: { backoffBaseMs: 50, maxWaitMs: 5_000, ...tuning } });
  beforeAll(() => {
    setEnvForTests(testEnv({ LTIAAS_URL: emu.url, ...envOverrides }));
    overrides = fresh();
  });
  beforeEach(() => {
    overrides = fresh();
  });
  afterAll(() => setEnvForTests(testEnv()));
  const g: GradeEnv = {
    get overrides() {
      return overrides;
    },
    configure(o) {
      overrides = { ...overrides, ...o, push: { ...overrides.push, ...o.push }, roster: { ...overrides.roster, ...o.roster } };
    },
    deps: (engine = "inline") => jobDeps(engine, overrides),
    jobs: (opts = {}) => createDispatcher({ mode: "inline", ...opts, deps: overrides }),
    run: (kind, payload = {}, trigger = "test") => g.jobs().runHere(kind, payload, trigger),
    async push(contextRef) {
      const { db } = await g.deps();
      const [c] = ((await db.execute(sql`SELECT p.platform_id FROM contexts c JOIN platforms p ON p.id = c.platform_ref WHERE c.id = ${contextRef}::uuid`)) as unknown as {
        rows: { platform_id: string }[];
      }).rows;
      return g.run("push-context", { contextRef, platformId: c?.platform_id ?? "unknown", runId: null }, "manual");
    },
    async pushElsewhere(contextRef, deps) {
      const d = deps ?? (await g.deps());
      const payload = { contextRef, platformId: "elsewhere", runId: null };
      return (await executeJob(pushContextJob, payload, { step: inlineStep(d), deps: d, trigger: "test" })).result as ContextTotals;
    },
    functions: () => createFunctions(overrides),
  };
  return g;
}

export async function gradeRow(db: Db, resourceLinkRef: string, userId: string) {
  return one<{ id: number; state: string; reason: string | null; revision: number; sent_revision: number | null; attempts: number; score_given: number | null }>(
    db,
    sql`SELECT id, state, reason, revision, sent_revision, attempts, score_given FROM grade_rows WHERE resource_link_ref = ${resourceLinkRef}::uuid AND user_id = ${userId}`,
  );
}

export async function counters(db: Db, resourceLinkRef: string) {
  return one<{ pending: number; sent: number; skipped: number; failed: number; oldest_pending_at: Date | null }>(
    db,
    sql`SELECT pending, sent, skipped, failed, oldest_pending_at FROM grade_counters WHERE resource_link_ref = ${resourceLinkRef}::uuid`,
  );
}
