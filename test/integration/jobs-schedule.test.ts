import { describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { recordScores } from "@/lib/grades/record";
import { pushContextJob } from "@/lib/jobs/definitions/push-context";
import { createDispatcher } from "@/lib/jobs/dispatch";
import { pushSoon } from "@/lib/jobs/requests";
import { useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { scoresFor, seedTriple, useGradeEnv } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
const g = useGradeEnv(emu);

const waitFor = async (cond: () => boolean | Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
};

const record = async (scores: ReturnType<typeof scoresFor>, source: "activity" | "webhook", jobs = g.jobs()) => {
  const r = await recordScores(scores, { source });
  if (!r.duplicate) pushSoon(r.changed, jobs);
  return r;
};

describe("a recorded score is pushed soon (inline)", () => {
  it("coalesces a burst into one debounced push run that sends everything", async () => {
    expect(pushContextJob.flow.soon!.inlineDelayMs).toBeLessThanOrEqual(60_000);
    const jobs = g.jobs({ soonDelayMs: { "push-context": 150 } });
    const s = await seedTriple(t.db, emu.emulator, { contextId: "sc1", resourceLinkId: "r", withLineItem: true });
    await record(scoresFor(s, 2), "activity", jobs);
    await record(scoresFor(s, 4).slice(2), "webhook", jobs);
    expect(jobs.waiting("push-context")).toEqual([s.contextRef]);
    await waitFor(() => emu.emulator.scores(s.lineItemId!).length === 4);
    await waitFor(async () => {
      const { rows } = (await t.db.execute(sql`SELECT outcome FROM sync_runs WHERE trigger = 'debounce'`)) as unknown as { rows: { outcome: string }[] };
      return rows.length === 1 && rows[0].outcome === "completed";
    });
    const { rows } = (await t.db.execute(sql`SELECT kind, context_ref FROM sync_runs`)) as unknown as { rows: { kind: string; context_ref: string }[] };
    expect(rows).toEqual([{ kind: "push-grades", context_ref: s.contextRef }]);
  });
});

describe("a recorded score with jobs on Inngest", () => {
  it("sends context.changed (picked up by the debounced push-context-soon function)", async () => {
    const sent: unknown[] = [];
    const jobs = createDispatcher({ mode: "inngest", send: async (e) => void sent.push(e) });
    const s = await seedTriple(t.db, emu.emulator, { contextId: "sc2", resourceLinkId: "r", withLineItem: true });
    await record(scoresFor(s, 1), "webhook", jobs);
    await waitFor(() => sent.length === 1);
    expect(sent[0]).toEqual({ name: "gradesync/context.changed", data: { contextRef: s.contextRef, platformId: s.platformId, runId: null } });
    expect(emu.emulator.scores(s.lineItemId!)).toHaveLength(0);
  });
});
