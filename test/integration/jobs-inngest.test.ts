/**
 * The Inngest functions' wiring through @inngest/test: step ids, at most 100 scores per step, the
 * step count per context, and which failures retry. Flow control itself is Inngest's (see
 * test/unit/inngest.test.ts for its configuration).
 */
import { beforeEach, describe, expect, it } from "vitest";
import { InngestTestEngine } from "@inngest/test";
import { sql } from "drizzle-orm";
import { recordScores } from "@/lib/grades/record";
import { setCeiling } from "@/lib/ltiaas/ceiling";
import { inngestFunction, runGaveUp, unitGaveUp } from "@/lib/inngest/functions";
import { pushContextJob } from "@/lib/jobs/definitions/push-context";
import { pushGradesJob } from "@/lib/jobs/definitions/push-grades";
import { ownRunId, SELF, startRun, unitDone } from "@/lib/jobs/runs";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { scoresFor, seedTriple, useGradeEnv } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
const g = useGradeEnv(emu);

beforeEach(async () => {
  await truncateAll(t.db);
});

/** The function with this test's dependencies (a fresh platform gate: a test's 429 holds only its own). */
const fn = (id: string) => inngestFunction(id, g.functions());
const EVENTS = { pushContext: pushContextJob.event, pushGrades: pushGradesJob.event, contextChanged: pushContextJob.flow.soon!.event };

const stepIds = (ctx: { step: { run: { mock: { calls: unknown[][] } } } }) => ctx.step.run.mock.calls.map((c) => c[0] as string);

describe("push-context under @inngest/test", () => {
  it("uses stable step ids, sends at most 100 scores per step, ⌈pending/100⌉ + 2 steps (+1 to start a run of its own)", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "ig1", resourceLinkId: "r", withLineItem: true, learners: 250 });
    await recordScores(scoresFor(s, 250, (i) => (i % 10) + 1), { source: "webhook" });
    // Requests take a moment, so those of one step overlap.
    emu.emulator.faults.latencyMs = 3;
    const engine = new InngestTestEngine({
      function: fn("push-context"),
      events: [{ name: EVENTS.pushContext, data: { contextRef: s.contextRef, platformId: s.platformId, runId: null } }],
    });
    const { result, ctx, error } = await engine.execute();
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ sent: 250, failed: 0 });
    const ids = [...new Set(stepIds(ctx as never))];
    const link = s.resourceLinkRef;
    expect(ids).toEqual(["start-run", "prepare", `send:${link}:0`, `send:${link}:1`, `send:${link}:2`, "finish"]);
    // Sync now under Inngest is a run of its own, as inline: the teacher's page lists it.
    const { rows: runs } = (await t.db.execute(sql`SELECT kind, trigger, context_ref, outcome, counts FROM sync_runs`)) as unknown as {
      rows: { kind: string; trigger: string; context_ref: string; outcome: string; counts: Record<string, number> | string }[];
    };
    expect(runs.map((r) => ({ ...r, counts: typeof r.counts === "string" ? JSON.parse(r.counts) : r.counts }))).toMatchObject([
      { kind: "push-grades", trigger: "manual", context_ref: s.contextRef, outcome: "completed", counts: { sent: 250, pending: 0 } },
    ]);
    // What each send step claimed (and so sent): at most 100.
    const run = (ctx as unknown as { step: { run: { mock: { calls: unknown[][]; results: { value: unknown }[] } } } }).step.run.mock;
    const claimed = await Promise.all(
      run.calls.flatMap((c, i) => (String(c[0]).startsWith("send:") ? [Promise.resolve(run.results[i].value).then((r) => (r as { claimed: number }).claimed)] : [])),
    );
    expect(claimed).toEqual([100, 100, 50]);
    expect(emu.emulator.scores(s.lineItemId!)).toHaveLength(250);
    // One step at a time per platform under Inngest, sending within the platform's window (its ceiling, 2).
    expect(emu.emulator.stats().inFlightMaxByPlatform[s.platformId]).toBe(2);
  });

  it("a second run with nothing changed sends nothing", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "ig2", resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(s, 5), { source: "webhook" });
    const event = { name: EVENTS.pushContext, data: { contextRef: s.contextRef, platformId: s.platformId, runId: null } };
    await new InngestTestEngine({ function: fn("push-context"), events: [event] }).execute();
    const before = emu.emulator.log.length;
    const { result } = await new InngestTestEngine({ function: fn("push-context"), events: [event] }).execute();
    expect(result).toMatchObject({ sent: 0 });
    expect(emu.emulator.log.length).toBe(before);
  });

  it("an invalid event fails without retry (NonRetriableError)", async () => {
    const { error } = await new InngestTestEngine({
      function: fn("push-context"),
      events: [{ name: EVENTS.pushContext, data: { contextRef: "not-a-uuid" } }],
    }).execute();
    expect((error as { name?: string })?.name).toBe("NonRetriableError");
  });

  it("a rate-limited chunk retries the step after Retry-After (RetryAfterError), rows recorded", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "ig3", resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(s, 3), { source: "webhook" });
    // One request at a time to this platform (its ceiling), so the first answer stops the chunk.
    await setCeiling(t.db, s.platformId, 1);
    emu.emulator.faults.rateLimit = { style: "429", retryAfterSeconds: 30, remaining: 1, method: "POST" };
    const run = new InngestTestEngine({
      function: fn("push-context"),
      events: [{ name: EVENTS.pushContext, data: { contextRef: s.contextRef, platformId: s.platformId, runId: null } }],
    });
    const out = await run.executeStep(`send:${s.resourceLinkRef}:0`).catch((e: unknown) => ({ thrown: e }));
    const step = (out as { step?: { op: string; name: string; error?: { name: string } } }).step;
    expect(step).toMatchObject({ op: "StepError", name: `send:${s.resourceLinkRef}:0`, error: { name: "RetryAfterError" } });
    const { rows } = (await t.db.execute(sql`SELECT state, next_attempt_at > now() AS later FROM grade_rows ORDER BY id`)) as unknown as {
      rows: { state: string; later: boolean }[];
    };
    // One request went out; the whole chunk waits, pending and not due before the Retry-After.
    expect(emu.emulator.log.filter((l) => l.method === "POST" && l.path.includes("/scores"))).toHaveLength(1);
    expect(rows).toEqual([{ state: "pending", later: true }, { state: "pending", later: true }, { state: "pending", later: true }]);
  });
});

describe("push-grades under @inngest/test", () => {
  it("fans out one push-context event per context with pending rows", async () => {
    const a = await seedTriple(t.db, emu.emulator, { contextId: "ig4", resourceLinkId: "r", withLineItem: true });
    const b = await seedTriple(t.db, emu.emulator, { platformId: "platform-2", contextId: "ig5", resourceLinkId: "r", withLineItem: true });
    await recordScores([...scoresFor(a, 2), ...scoresFor(b, 2)], { source: "webhook" });
    const { ctx, result } = await new InngestTestEngine({
      function: fn("push-grades"),
      events: [{ name: EVENTS.pushGrades, data: {} }],
      // The fan-out goes to Inngest: mocked here, its payload asserted below.
      steps: [{ id: "fan-out-0", handler: () => ({ ids: [] }) }],
    }).execute();
    expect(result).toMatchObject({ contexts: 2 });
    const sends = (ctx as unknown as { step: { sendEvent: { mock: { calls: unknown[][] } } } }).step.sendEvent.mock.calls;
    const events = sends.flatMap((c) => c[1] as { name: string; data: { contextRef: string; platformId: string } }[]);
    expect(events.map((e) => [e.name, e.data.contextRef, e.data.platformId]).sort()).toEqual(
      [
        [EVENTS.pushContext, a.contextRef, a.platformId],
        [EVENTS.pushContext, b.contextRef, b.platformId],
      ].sort(),
    );
  });
});

describe("a fanned-out run under Inngest", () => {
  type Sent = { name: typeof EVENTS.pushContext; data: { contextRef: string; platformId: string; runId: string } };
  const fanOut = async () => {
    const { ctx, result } = await new InngestTestEngine({
      function: fn("push-grades"),
      events: [{ name: EVENTS.pushGrades, data: {} }],
      steps: [{ id: "fan-out-0", handler: () => ({ ids: [] }) }],
    }).execute();
    const events = (ctx as unknown as { step: { sendEvent: { mock: { calls: unknown[][] } } } }).step.sendEvent.mock.calls.flatMap((c) => c[1] as Sent[]);
    return { runId: (result as { runId: string }).runId, events };
  };
  const run = async (runId: string) => {
    const { rows } = (await t.db.execute(sql`SELECT outcome, counts, error, finished_at FROM sync_runs WHERE id = ${runId}::uuid`)) as unknown as {
      rows: { outcome: string; counts: Record<string, number> | string; error: string | null; finished_at: Date | null }[];
    };
    const r = rows[0];
    return { ...r, counts: typeof r.counts === "string" ? JSON.parse(r.counts) : r.counts };
  };

  it("reads running until its last context's push is done, which settles it; a retried finish step counts once", async () => {
    const a = await seedTriple(t.db, emu.emulator, { contextId: "ig6", resourceLinkId: "r", withLineItem: true });
    const b = await seedTriple(t.db, emu.emulator, { platformId: "platform-2", contextId: "ig7", resourceLinkId: "r", withLineItem: true });
    await recordScores([...scoresFor(a, 2), ...scoresFor(b, 3)], { source: "webhook" });
    const { runId, events } = await fanOut();
    expect(events).toHaveLength(2);
    expect(await run(runId)).toMatchObject({ outcome: "running", finished_at: null });

    const [first, last] = events;
    await new InngestTestEngine({ function: fn("push-context"), events: [first] }).execute();
    const firstSent = first.data.contextRef === a.contextRef ? 2 : 3;
    expect(await run(runId)).toMatchObject({ outcome: "running", counts: { sent: firstSent } });
    // The finish step of that unit runs again (a crash after its write): nothing is counted twice.
    await unitDone(t.db, runId, first.data.contextRef, { sent: firstSent });
    expect((await run(runId)).counts.sent).toBe(firstSent);

    await new InngestTestEngine({ function: fn("push-context"), events: [last] }).execute();
    const settled = await run(runId);
    expect(settled).toMatchObject({ outcome: "completed", counts: { sent: 5, pending: 0 }, error: null });
    expect(settled.finished_at).not.toBeNull();
  });

  it("a context whose retries ran out still ends the run: partial, saying how many gave up, its rows pending", async () => {
    expect(fn("push-context").opts.onFailure).toBe(unitGaveUp);
    expect(fn("refresh-roster-context").opts.onFailure).toBe(unitGaveUp);
    expect(fn("push-context-soon").opts.onFailure).toBe(unitGaveUp);
    expect(fn("refresh-roster-soon").opts.onFailure).toBe(unitGaveUp);
    const a = await seedTriple(t.db, emu.emulator, { contextId: "ig8", resourceLinkId: "r", withLineItem: true });
    const b = await seedTriple(t.db, emu.emulator, { contextId: "ig9", resourceLinkId: "r", withLineItem: true });
    await recordScores([...scoresFor(a, 2), ...scoresFor(b, 2)], { source: "webhook" });
    const { runId, events } = await fanOut();
    const [ok, gaveUp] = events;
    await new InngestTestEngine({ function: fn("push-context"), events: [ok] }).execute();
    // What Inngest hands onFailure: the failure event wrapping the original one.
    await unitGaveUp({ event: { data: { event: gaveUp } }, error: new Error("boom") });
    expect(await run(runId)).toMatchObject({ outcome: "partial", counts: { sent: 2, pending: 2 }, error: "1 context(s) gave up after their retries: Error" });
    // Malformed or run-less failures are ignored.
    await expect(unitGaveUp({ event: { data: { event: { data: { contextRef: a.contextRef, runId: null } } } } })).resolves.toEqual({ settled: false });
  });

  it("a push of its own whose retries ran out is found by Inngest's run id and ends partial", async () => {
    const a = await seedTriple(t.db, emu.emulator, { contextId: "ig10", resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(a, 2), { source: "webhook" });
    const event = { name: EVENTS.contextChanged, data: { contextRef: a.contextRef, platformId: a.platformId, runId: null } };
    // Its first step ran (the run started), then every retry failed.
    const engineRunId = "01JDEBOUNCEDRUN0000000000";
    await startRun(t.db, { kind: "push-grades", trigger: "debounce", engineRunId, contextRef: a.contextRef, unit: a.contextRef });
    expect(await run(ownRunId(engineRunId))).toMatchObject({ outcome: "running" });
    await unitGaveUp({ event: { data: { run_id: engineRunId, event } }, error: new Error("boom") });
    expect(await run(ownRunId(engineRunId))).toMatchObject({ outcome: "partial", counts: { pending: 2 }, error: "1 context(s) gave up after their retries: Error" });
    expect(ownRunId(engineRunId)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("a unit whose finish step failed between marking itself done and settling settles the run when the step is retried", async () => {
    const a = await seedTriple(t.db, emu.emulator, { contextId: "ig11", resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(a, 2), { source: "webhook" });
    const { runId, events } = await fanOut();
    await new InngestTestEngine({ function: fn("push-context"), events: [events[0]], steps: [{ id: "finish", handler: () => null }] }).execute();
    // The first try marked the unit done, then lost its connection before the settle.
    await t.db.execute(sql`UPDATE sync_run_units SET done_at = now() WHERE run_id = ${runId}::uuid`);
    expect((await run(runId)).outcome).toBe("running");
    await unitDone(t.db, runId, a.contextRef, { sent: 2 });
    expect(await run(runId)).toMatchObject({ outcome: "completed", counts: { pending: 0 } });
  });

  it("a unit that gave up after sending some rows still counts what it sent, from its attempts", async () => {
    const a = await seedTriple(t.db, emu.emulator, { contextId: "ig12", resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(a, 3), { source: "webhook" });
    const { runId, events } = await fanOut();
    // It sent every row, then its finish step failed for good (mocked away here).
    await new InngestTestEngine({ function: fn("push-context"), events: [events[0]], steps: [{ id: "finish", handler: () => null }] }).execute();
    expect(emu.emulator.scores(a.lineItemId!)).toHaveLength(3);
    await unitGaveUp({ event: { data: { event: events[0] } }, error: new Error("boom") });
    expect(await run(runId)).toMatchObject({ outcome: "partial", counts: { sent: 3, pending: 0 }, error: "1 context(s) gave up after their retries: Error" });
  });

  it("a fan-out function whose retries ran out leaves its run failed, saying why, not running", async () => {
    for (const id of ["push-grades", "backfill", "retry-failed", "refresh-rosters"]) expect(fn(id).opts.onFailure).toBe(runGaveUp);
    const engineRunId = "01JPARENTRUN0000000000000";
    await startRun(t.db, { kind: "push-grades", trigger: "inngest", engineRunId, unit: SELF });
    await runGaveUp({ event: { data: { run_id: engineRunId } }, error: { name: "NonRetriableError" } });
    expect(await run(ownRunId(engineRunId))).toMatchObject({ outcome: "failed", error: "NonRetriableError" });
    // A run its units already settled keeps its outcome.
    const settled = "01JSETTLEDRUN000000000000";
    await startRun(t.db, { kind: "push-grades", trigger: "inngest", engineRunId: settled, unit: SELF });
    await t.db.execute(sql`UPDATE sync_runs SET outcome = 'completed' WHERE id = ${ownRunId(settled)}::uuid`);
    await runGaveUp({ event: { data: { run_id: settled } }, error: { name: "Error" } });
    expect((await run(ownRunId(settled))).outcome).toBe("completed");
  });

  it("with nothing to fan out, completes at once", async () => {
    const { runId, events } = await fanOut();
    expect(events).toHaveLength(0);
    expect(await run(runId)).toMatchObject({ outcome: "completed", counts: { pending: 0 } });
  });
});
