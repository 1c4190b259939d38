/**
 * The teacher's buttons in Inngest mode, without an Inngest server: what they send (captured at the
 * SDK's `send`), and what the function that event triggers does with it (through @inngest/test).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { InngestTestEngine } from "@inngest/test";
import { sql } from "drizzle-orm";
import { requestRetryFailed, requestSync } from "@/lib/jobs/requests";
import { recordScores } from "@/lib/grades/record";
import { inngest } from "@/lib/inngest/client";
import { inngestFunction } from "@/lib/inngest/functions";
import { pushContextJob } from "@/lib/jobs/definitions/push-context";
import { contextRuns } from "@/lib/views/teacher";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { scoresFor, seedTriple, useGradeEnv } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
useGradeEnv(emu, {}, { JOBS_MODE: "inngest" });

type Sent = { name: string; id: string; data: { contextRef: string; platformId: string; runId: null } };
let sent: Sent[];

beforeEach(async () => {
  await truncateAll(t.db);
  sent = [];
  vi.spyOn(inngest, "send").mockImplementation((async (payload: Sent) => {
    sent.push(payload);
    return { ids: [payload.id] };
  }) as never);
  // Event ids are per minute: the test stays inside one.
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-11-27T10:00:20Z"));
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("Sync now and Retry failed under Inngest", () => {
  it("send one event per button and minute (a second click is dropped by its id); the push is a run the teacher's page lists", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "si1", resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(s, 3), { source: "webhook" });

    const first = await requestSync(s.contextRef);
    const second = await requestSync(s.contextRef);
    const retry = await requestRetryFailed(s.contextRef);
    expect(first).toMatchObject({ status: "queued" });
    expect(second).toEqual(first);
    expect(retry).toMatchObject({ status: "queued", reset: 0 });
    const id = (r: typeof first) => (r.status === "queued" ? r.eventId : undefined);
    // Inngest drops an event whose id it has seen: the second click sends the first one's id.
    expect(sent.map((e) => e.id)).toEqual([id(first), id(first), id(retry)]);
    expect(id(retry)).not.toBe(id(first));
    expect(sent[0]).toMatchObject({ name: pushContextJob.event, data: { contextRef: s.contextRef, platformId: s.platformId, runId: null } });
    // Nothing went to the LMS from the request itself.
    expect(emu.emulator.log).toHaveLength(0);

    // What Inngest then runs for that event.
    vi.useRealTimers();
    const { result, error } = await new InngestTestEngine({ function: inngestFunction("push-context"), events: [sent[0]] }).execute();
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ sent: 3 });
    const runs = await contextRuns(t.db, { contextRef: s.contextRef, resourceLinkRef: s.resourceLinkRef });
    expect(runs).toMatchObject([{ kind: "push-grades", trigger: "manual", outcome: "completed", counts: { sent: 3, pending: 0 } }]);
    const { rows } = (await t.db.execute(sql`SELECT count(*)::int AS n FROM grade_rows WHERE state = 'sent'`)) as unknown as { rows: { n: number }[] };
    expect(rows[0].n).toBe(3);
  });
});
