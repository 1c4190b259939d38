import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { recordScores } from "@/lib/grades/record";
import { PUSH_DELAY_MS, setPushDelayForTests, setPushSchedulerForTests } from "@/lib/grades/schedule";
import { useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { scoresFor, seedTriple, useGradeEnv } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
useGradeEnv(emu);

beforeAll(() => {
  // The real inline scheduler, with a short delay.
  setPushSchedulerForTests(undefined);
  setPushDelayForTests(150);
});
afterAll(() => {
  setPushDelayForTests(undefined);
  setPushSchedulerForTests(null);
});

const waitFor = async (cond: () => boolean | Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe("recording a score schedules a push of its context (inline)", () => {
  it("coalesces a burst into one debounced push run that sends everything", async () => {
    expect(PUSH_DELAY_MS).toBeLessThanOrEqual(60_000);
    const s = await seedTriple(t.db, emu.emulator, { contextId: "sc1", resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(s, 2), { source: "activity" });
    await recordScores(scoresFor(s, 4).slice(2), { source: "webhook" });
    await waitFor(() => emu.emulator.scores(s.lineItemId!).length === 4);
    await waitFor(async () => {
      const { rows } = (await t.db.execute(sql`SELECT outcome FROM sync_runs WHERE trigger = 'debounce'`)) as unknown as { rows: { outcome: string }[] };
      return rows.length === 1 && rows[0].outcome === "completed";
    });
    const { rows } = (await t.db.execute(sql`SELECT kind, context_ref FROM sync_runs`)) as unknown as { rows: { kind: string; context_ref: string }[] };
    expect(rows).toEqual([{ kind: "push-grades", context_ref: s.contextRef }]);
  });
});

describe("recording a score with Inngest configured", () => {
  it("sends context.changed (picked up by the debounced push-context-soon function)", async () => {
    const { inngest } = await import("@/lib/inngest/client");
    const { setEnvForTests } = await import("@/lib/env");
    const { testEnv } = await import("../support/env");
    const sent: unknown[] = [];
    const original = inngest.send.bind(inngest);
    (inngest as { send: unknown }).send = async (payload: unknown) => {
      sent.push(payload);
      return { ids: ["x"] };
    };
    setEnvForTests(testEnv({ LTIAAS_URL: emu.url, JOBS_MODE: "inngest", INNGEST_DEV: "1" }));
    try {
      const s = await seedTriple(t.db, emu.emulator, { contextId: "sc2", resourceLinkId: "r", withLineItem: true });
      await recordScores(scoresFor(s, 1), { source: "webhook" });
      await waitFor(() => sent.length === 1);
      expect(sent[0]).toEqual({ name: "gradesync/context.changed", data: { contextRef: s.contextRef, platformId: s.platformId } });
      expect(emu.emulator.scores(s.lineItemId!)).toHaveLength(0);
    } finally {
      (inngest as { send: unknown }).send = original;
      setEnvForTests(testEnv({ LTIAAS_URL: emu.url }));
    }
  });
});
