/**
 * The Inngest functions' configuration and the step runner's error mapping. What Inngest itself
 * enforces (concurrency keys, retries, debounce, dedupe ids) needs its server: here we assert the
 * configuration it would enforce.
 */
import { describe, expect, it } from "vitest";
import { NonRetriableError, RetryAfterError } from "inngest";
import { SealError } from "@/lib/crypto/seal";
import { functions, inngestFunction, stepRunner } from "@/lib/inngest/functions";
import { pushContextJob } from "@/lib/jobs/definitions/push-context";

const EVENTS = { pushContext: pushContextJob.event, contextChanged: pushContextJob.flow.soon!.event };
const pushContextFn = inngestFunction("push-context");
const pushContextSoonFn = inngestFunction("push-context-soon");
const pushGradesFn = inngestFunction("push-grades");

const fakeStep = () => {
  const calls: string[] = [];
  return {
    calls,
    step: {
      run: async (id: string, fn: () => Promise<unknown>) => (calls.push(`run:${id}`), fn()),
      sendEvent: async (id: string, payload: unknown) => (calls.push(`send:${id}:${(payload as unknown[]).length}`), undefined),
      sleep: async (id: string) => (calls.push(`sleep:${id}`), undefined),
    },
  };
};

describe("Inngest functions", () => {
  it("serves one functions array with stable ids", () => {
    const ids = functions.map((f) => f.id());
    expect(ids).toEqual(expect.arrayContaining(["push-grades", "push-context", "push-context-soon", "backfill", "retry-failed", "refresh-rosters"]));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("bounds a platform across functions (env-scoped key: one step at a time, sending within the platform's window) and runs one unit per context", () => {
    const expected = [
      { scope: "env", key: '"gradesync-platform-" + event.data.platformId', limit: 1 },
      { key: "event.data.contextRef", limit: 1 },
    ];
    expect(pushContextFn.opts.concurrency).toEqual(expected);
    expect(pushContextSoonFn.opts.concurrency).toEqual(expected);
    expect(pushContextFn.opts.triggers).toEqual([{ event: EVENTS.pushContext }]);
  });

  it("debounces the push after recorded scores so it runs within a minute", () => {
    expect(pushContextSoonFn.opts.debounce).toEqual({ key: "event.data.contextRef", period: "20s", timeout: "1m" });
    expect(pushContextSoonFn.opts.triggers).toEqual([{ event: EVENTS.contextChanged }]);
  });

  it("has bounded retries and a cron trigger for the push", () => {
    for (const f of functions) expect((f.opts as { retries?: number }).retries).toBeLessThanOrEqual(5);
    expect(pushGradesFn.opts.triggers).toEqual(expect.arrayContaining([expect.objectContaining({ cron: expect.any(String) })]));
  });

});

describe("step runner over Inngest's step", () => {
  it("turns a rate-limited chunk into RetryAfterError (the step runs again after Retry-After)", async () => {
    const { step } = fakeStep();
    const err = await stepRunner(step).run("send:x:0", async () => ({ sent: 3, retryAfterMs: 1500 })).catch((e) => e);
    expect(err).toBeInstanceOf(RetryAfterError);
    // Inngest keeps it in whole seconds, rounded up.
    expect((err as RetryAfterError).retryAfter).toBe("2");
  });

  it("makes permanent failures NonRetriableError and lets transient ones retry", async () => {
    const { step } = fakeStep();
    const sealed = await stepRunner(step).run("prepare", async () => {
      throw new SealError("wrong_row");
    }).catch((e) => e);
    expect(sealed).toBeInstanceOf(NonRetriableError);
    const transient = new Error("ECONNRESET");
    await expect(stepRunner(step).run("prepare", async () => Promise.reject(transient))).rejects.toBe(transient);
    await expect(stepRunner(step).run("ok", async () => ({ sent: 1 }))).resolves.toEqual({ sent: 1 });
  });

  it("sends fan-out events in batches under stable ids", async () => {
    const { step, calls } = fakeStep();
    const events = Array.from({ length: 1203 }, (_, i) => ({
      name: EVENTS.pushContext,
      data: { contextRef: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`, platformId: "p", runId: null },
    }));
    await stepRunner(step).sendEvent("fan-out", events);
    expect(calls).toEqual(["send:fan-out-0:500", "send:fan-out-1:500", "send:fan-out-2:203"]);
  });
});
