/**
 * The Inngest wiring of the roster job, run with @inngest/test (no Inngest server): the cron run
 * fans contexts out as roster-context events, the per-context function refreshes and counts, and
 * the configuration Inngest itself enforces (cron, concurrency keys, debounce) is asserted.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { InngestTestEngine } from "@inngest/test";
import { sql } from "drizzle-orm";
import { functions, inngestFunction, platformAndContextConcurrency } from "@/lib/inngest/functions";
import { refreshRostersJob, rosterCron } from "@/lib/jobs/definitions/refresh-rosters";
import { rosterContextJob } from "@/lib/jobs/definitions/roster-context";
import { expectUnits } from "@/lib/jobs/runs";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { seedTriple, useGradeEnv } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
const g = useGradeEnv(emu);

beforeEach(async () => {
  await truncateAll(t.db);
  g.configure({ roster: { backoffBaseMs: 5 } });
});

const EVENTS = { refreshRosters: refreshRostersJob.event, rosterContext: rosterContextJob.event, rosterSoon: rosterContextJob.flow.soon!.event };
/** The function with this test's dependencies (a fresh platform gate: a test's 429 holds only its own). */
const fn = (id: string) => inngestFunction(id, g.functions());

const learners = (n: number) => Array.from({ length: n }, (_, i) => ({ userId: `learner-${i + 1}`, roles: ["Learner"] }));

type Rows<T> = { rows: T[] };
const q = async <T>(query: ReturnType<typeof sql>) => ((await t.db.execute(query)) as unknown as Rows<T>).rows;

describe("Inngest: refresh-rosters", () => {
  it("runs every ROSTER_MAX_AGE_HOURS and fans each stale context out with its platform", async () => {
    expect(rosterCron({ ROSTER_MAX_AGE_HOURS: "12" })).toBe("TZ=UTC 45 */12 * * *");
    expect(rosterCron({})).toBe("TZ=UTC 45 */12 * * *");
    expect(rosterCron({ ROSTER_MAX_AGE_HOURS: "3" })).toBe("TZ=UTC 45 */3 * * *");
    expect(rosterCron({ ROSTER_MAX_AGE_HOURS: "24" })).toBe("TZ=UTC 45 3 * * *");
    expect(rosterCron({ ROSTER_MAX_AGE_HOURS: "72" })).toBe("TZ=UTC 45 3 */3 * *");
    expect(fn("refresh-rosters").opts.triggers).toEqual([{ event: EVENTS.refreshRosters }, { cron: rosterCron() }]);

    const a = await seedTriple(t.db, emu.emulator, { contextId: "ca", resourceLinkId: "rla" });
    const b = await seedTriple(t.db, emu.emulator, { platformId: "platform-2", contextId: "cb", resourceLinkId: "rlb" });
    // Fresh: not listed.
    await seedTriple(t.db, emu.emulator, { contextId: "cc", resourceLinkId: "rlc" });
    await t.db.execute(sql`UPDATE contexts SET roster_refreshed_at = now() WHERE context_id = 'cc'`);

    const engine = new InngestTestEngine({
      function: fn("refresh-rosters"),
      events: [{ name: EVENTS.refreshRosters, data: {} }],
      // No Inngest server to take the events: the fan-out step is mocked, its arguments recorded.
      steps: [{ id: "fan-out-0", handler: () => ({ ids: ["e1", "e2"] }) }],
    });
    const { result, ctx } = await engine.execute();
    const out = result as { runId: string; queued: number };
    expect(out.queued).toBe(2);
    const sent = (ctx.step.sendEvent as unknown as { mock: { calls: unknown[][] } }).mock.calls.flatMap((c) => c[1] as { name: string; data: Record<string, unknown> }[]);
    expect(sent.map((e) => e.name)).toEqual([EVENTS.rosterContext, EVENTS.rosterContext]);
    expect(sent.map((e) => e.data).sort((x, y) => String(x.platformId).localeCompare(String(y.platformId)))).toEqual([
      { contextRef: a.contextRef, platformId: "platform-1", runId: out.runId, force: false },
      { contextRef: b.contextRef, platformId: "platform-2", runId: out.runId, force: false },
    ]);
    // Fanning out sends no LTIAAS request.
    expect(emu.emulator.log.filter((e) => e.path.startsWith("/api/memberships"))).toHaveLength(0);
    const run = async () => {
      const [r] = await q<{ outcome: string; counts: Record<string, number> | string }>(sql`SELECT outcome, counts FROM sync_runs WHERE id = ${out.runId}::uuid`);
      return { outcome: r.outcome, counts: typeof r.counts === "string" ? JSON.parse(r.counts) : r.counts };
    };
    // Its units run on their own: the run reads `running` until the last one is done.
    expect(await run()).toMatchObject({ outcome: "running", counts: { queued: 2 } });
    for (const [i, e] of sent.entries()) {
      await new InngestTestEngine({ function: fn("refresh-roster-context"), events: [e] }).execute();
      expect((await run()).outcome).toBe(i === sent.length - 1 ? "completed" : "running");
    }
    expect((await run()).counts).toMatchObject({ queued: 2, refreshed: 2 });
  });
});

describe("Inngest: refresh-roster-context", () => {
  it("shares the push functions' flow control and refreshes one context, counting into the run", async () => {
    expect(fn("refresh-roster-context").opts.concurrency).toEqual(platformAndContextConcurrency());
    expect(fn("refresh-roster-context").opts.triggers).toEqual([{ event: EVENTS.rosterContext }]);
    expect(functions.map((f) => f.opts.id)).toEqual(expect.arrayContaining(["refresh-roster-context", "refresh-roster-soon", "refresh-rosters"]));

    const s = await seedTriple(t.db, emu.emulator, { contextId: "c1", resourceLinkId: "rl1", learners: 0 });
    emu.emulator.setRoster(s.platformId, s.contextId, learners(70));
    const [{ id: runId }] = await q<{ id: string }>(sql`INSERT INTO sync_runs (kind, trigger) VALUES ('refresh-rosters', 'inngest') RETURNING id`);
    // As the run's fan-out does before it sends the event.
    await expectUnits(t.db, runId, [s.contextRef]);

    const engine = new InngestTestEngine({
      function: fn("refresh-roster-context"),
      events: [{ name: EVENTS.rosterContext, data: { contextRef: s.contextRef, platformId: s.platformId, runId } }],
    });
    const { result } = await engine.execute();
    // 70 learners and the teacher who launched.
    expect(result).toMatchObject({ outcome: "refreshed", members: 71, activeLearners: 70, pages: 2, runId });
    const [c] = await q<{ roster_members: number }>(sql`SELECT roster_members FROM contexts WHERE id = ${s.contextRef}::uuid`);
    expect(c.roster_members).toBe(71);
    const [run] = await q<{ counts: Record<string, number> | string }>(sql`SELECT counts FROM sync_runs WHERE id = ${runId}::uuid`);
    expect(typeof run.counts === "string" ? JSON.parse(run.counts) : run.counts).toMatchObject({ refreshed: 1, members: 71 });
  });

  it("turns a Retry-After too long to sleep through into a RetryAfterError on the step, roster untouched", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "c3", resourceLinkId: "rl3", learners: 3 });
    emu.emulator.faults.rateLimit = { style: "429", retryAfterSeconds: 90, remaining: 1 };
    const engine = new InngestTestEngine({
      function: fn("refresh-roster-context"),
      events: [{ name: EVENTS.rosterContext, data: { contextRef: s.contextRef, platformId: s.platformId } }],
    });
    const { error } = await engine.execute();
    expect(error).toMatchObject({ name: "RetryAfterError" });
    const [c] = await q<{ roster_refreshed_at: Date | null }>(sql`SELECT roster_refreshed_at FROM contexts WHERE id = ${s.contextRef}::uuid`);
    expect(c.roster_refreshed_at).toBeNull();
  });

  it("refuses a malformed event without retrying", async () => {
    const engine = new InngestTestEngine({ function: fn("refresh-roster-context"), events: [{ name: EVENTS.rosterContext, data: { contextRef: "nope" } }] });
    const { error } = await engine.execute();
    expect((error as { name?: string })?.name).toBe("NonRetriableError");
  });
});

describe("Inngest: refresh-roster-soon", () => {
  it("is debounced per context and, as its own run, refreshes a stale roster after a launch", async () => {
    expect(fn("refresh-roster-soon").opts.debounce).toMatchObject({ key: "event.data.contextRef" });
    expect(fn("refresh-roster-soon").opts.concurrency).toEqual(platformAndContextConcurrency());
    expect(fn("refresh-roster-soon").opts.triggers).toEqual([{ event: EVENTS.rosterSoon }]);

    const s = await seedTriple(t.db, emu.emulator, { contextId: "c2", resourceLinkId: "rl2", learners: 5 });
    const engine = new InngestTestEngine({
      function: fn("refresh-roster-soon"),
      events: [{ name: EVENTS.rosterSoon, data: { contextRef: s.contextRef, platformId: s.platformId, runId: null } }],
    });
    const { result } = await engine.execute();
    expect(result).toMatchObject({ outcome: "refreshed", members: 6 });
    const runs = await q<{ trigger: string; outcome: string; context_ref: string }>(sql`SELECT trigger, outcome, context_ref FROM sync_runs`);
    expect(runs).toEqual([{ trigger: "debounce", outcome: "completed", context_ref: s.contextRef }]);
  });
});
