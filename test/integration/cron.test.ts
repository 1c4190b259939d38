import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { GET, POST } from "@/app/api/cron/[job]/route";
import { setDbForTests } from "@/lib/db/client";
import { rowsOf } from "@/lib/db/rows";
import { setEnvForTests } from "@/lib/env";
import { recordScores } from "@/lib/grades/record";
import { handleCron } from "@/lib/jobs/cron";
import { createDispatcher, type Sender } from "@/lib/jobs/dispatch";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { TEST_KEYS, testEnv } from "../support/env";
import { scoresFor, seedTriple, useGradeEnv } from "../support/seed";
import { brokenDb, expectJson500 } from "../support/broken-db";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
useGradeEnv(emu);

beforeEach(async () => {
  await truncateAll(t.db);
  setEnvForTests(testEnv({ LTIAAS_URL: emu.url }));
});

const req = (job: string, method = "GET", auth: string | null = `Bearer ${TEST_KEYS.cron}`, body?: unknown) =>
  new Request(`http://localhost/api/cron/${job}`, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
/** A dispatcher for jobs on Inngest whose sends go to `send` (it returns the event id, or throws). */
const inngestWith = (send: (name: string, data: Record<string, unknown>, id: string) => Promise<string>) =>
  createDispatcher({ mode: "inngest", send: (async (e) => void (await send(e.name, e.data, e.id!))) satisfies Sender });
const call = (job: string, r: Request) => (r.method === "POST" ? POST : GET)(r, { params: Promise.resolve({ job }) });

describe("/api/cron/*", () => {
  it("answers 401 without the bearer, with a wrong one, and to everyone when CRON_SECRET is unset", async () => {
    expect((await call("grades", req("grades", "GET", null))).status).toBe(401);
    expect((await call("grades", req("grades", "GET", "Bearer wrong-secret-0000000"))).status).toBe(401);
    expect((await call("grades", req("grades", "GET", TEST_KEYS.cron))).status).toBe(401);
    setEnvForTests(testEnv({ LTIAAS_URL: emu.url, CRON_SECRET: undefined }));
    expect((await call("grades", req("grades"))).status).toBe(401);
  });

  it("answers 405 to other methods", async () => {
    expect((await call("grades", req("grades", "POST"))).status).toBe(405);
    expect((await call("backfill", req("backfill", "GET"))).status).toBe(405);
    expect((await GET(req("nope"), { params: Promise.resolve({ job: "nope" }) })).status).toBe(404);
  });

  it("inline: runs the push to completion and answers 200 with the run summary", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "cr1", resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(s, 3), { source: "webhook" });
    const res = await call("grades", req("grades"));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(Object.keys(body)).toEqual(expect.arrayContaining(["runId", "kind", "outcome", "startedAt", "finishedAt", "counts"]));
    expect(body).toMatchObject({ kind: "push-grades", outcome: "completed", counts: { sent: 3, skipped: 0, failed: 0, pending: 0 } });
    expect(emu.emulator.scores(s.lineItemId!)).toHaveLength(3);
  });

  it("inline: 409 with the running run's id while the same kind runs", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "cr2", resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(s, 4), { source: "webhook" });
    emu.emulator.faults.latencyMs = 150;
    const first = call("grades", req("grades"));
    // The first run is under way (its row is written) before the second call.
    await vi.waitFor(async () => expect(await rowsOf(t.db, sql`SELECT 1 FROM sync_runs WHERE outcome = 'running'`)).toHaveLength(1));
    const second = await call("grades", req("grades"));
    expect(second.status).toBe(409);
    const running = (await second.json()).running;
    const done = await (await first).json();
    expect(running).toBe(done.runId);
    // Another kind is not blocked.
    expect((await call("rosters", req("rosters"))).status).toBe(200);
  });

  it("inline: a run that cannot even start answers a JSON 500 without details, and frees its kind", async () => {
    setDbForTests(brokenDb);
    try {
      await expectJson500(await call("grades", req("grades")));
    } finally {
      setDbForTests(t.handle);
    }
    expect((await call("grades", req("grades"))).status).toBe(200);
  });

  it("inline: two calls at the same moment — the second's 409 names the first run, not a placeholder", async () => {
    const [a, b] = await Promise.all([call("grades", req("grades")), call("grades", req("grades"))]);
    const answers = [a, b].sort((x, y) => x.status - y.status);
    expect(answers.map((r) => r.status)).toEqual([200, 409]);
    const done = await answers[0].json();
    expect(await answers[1].json()).toEqual({ running: done.runId });
  });

  it("rosters inline: runs the roster refresh and answers 200 with its run summary", async () => {
    const res = await call("rosters", req("rosters"));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ kind: "refresh-rosters", outcome: "completed", runId: expect.any(String), counts: { pending: 0 } });
  });

  it("with Inngest: enqueues with a per-day event id (202), 502 when sending fails", async () => {
    setEnvForTests(testEnv({ LTIAAS_URL: emu.url, JOBS_MODE: "inngest", INNGEST_DEV: "1" }));
    const sent: { name: string; id: string }[] = [];
    const now = new Date("2026-11-27T03:00:00Z");
    const ok = await handleCron("grades", req("grades"), {
      now,
      dispatcher: inngestWith(async (name, _data, id) => {
        sent.push({ name, id });
        return id;
      }),
    });
    expect(ok).toEqual({ status: 202, body: { enqueued: true, eventId: "push-grades-2026-11-27" } });
    expect(sent).toEqual([{ name: "gradesync/push-grades.requested", id: "push-grades-2026-11-27" }]);
    const bad = await handleCron("rosters", req("rosters"), {
      now,
      dispatcher: inngestWith(async () => {
        throw new Error("network down");
      }),
    });
    expect(bad.status).toBe(502);
  });

  it("backfill: 400 with issues; the event id hashes the normalised body (two different backfills both run)", async () => {
    const bad = await call("backfill", req("backfill", "POST", undefined, { contextId: "x" }));
    expect(bad.status).toBe(400);
    expect((await bad.json()).issues.length).toBeGreaterThan(0);
    // Text Postgres cannot store is a bad request, not a 500.
    expect((await call("backfill", req("backfill", "POST", undefined, { platformId: "p\u0000" }))).status).toBe(400);
    setEnvForTests(testEnv({ LTIAAS_URL: emu.url, JOBS_MODE: "inngest", INNGEST_DEV: "1" }));
    const ids: string[] = [];
    const send = async (_n: string, _d: Record<string, unknown>, id: string) => (ids.push(id), id);
    await handleCron("backfill", req("backfill", "POST", undefined, { platformId: "p", contextId: "c" }), { dispatcher: inngestWith(send) });
    await handleCron("backfill", req("backfill", "POST", undefined, { contextId: "c", platformId: "p", dryRun: false }), { dispatcher: inngestWith(send) });
    await handleCron("backfill", req("backfill", "POST", undefined, { platformId: "p", contextId: "d" }), { dispatcher: inngestWith(send) });
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it("backfill inline: a dry run lists what would be sent and sends nothing; the real one re-sends", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "cr3", resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(s, 3), { source: "webhook" });
    await call("grades", req("grades"));
    const dry = await call("backfill", req("backfill", "POST", undefined, { platformId: s.platformId, contextId: s.contextId, dryRun: true }));
    expect(dry.status).toBe(200);
    const body = await dry.json();
    expect(body.backfill).toMatchObject({ dryRun: true, wouldSend: 3 });
    expect(body.backfill.rows).toHaveLength(3);
    expect(emu.emulator.scores(s.lineItemId!)).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 1000));
    const real = await call("backfill", req("backfill", "POST", undefined, { platformId: s.platformId, contextId: s.contextId }));
    expect(await real.json()).toMatchObject({ kind: "backfill", counts: { sent: 3 } });
    expect(emu.emulator.scores(s.lineItemId!)).toHaveLength(6);
  });
});

describe("/api/cron/backfill corrections with Inngest", () => {
  it("naming a triple never launched: 422 as inline, nothing enqueued (the job could only fail)", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "cr10", resourceLinkId: "r", withLineItem: true });
    setEnvForTests(testEnv({ LTIAAS_URL: emu.url, JOBS_MODE: "inngest", INNGEST_DEV: "1" }));
    const sent: string[] = [];
    const send = async (_n: string, _d: Record<string, unknown>, id: string) => (sent.push(id), id);
    const scores = [...scoresFor(s, 1), { ...scoresFor(s, 1)[0], resourceLinkId: "never" }];
    const r = await handleCron("backfill", req("backfill", "POST", undefined, { scores }), { dispatcher: inngestWith(send) });
    expect(r).toEqual({
      status: 422,
      body: { error: "unknown_triple", unknown: [{ index: 1, platformId: s.platformId, contextId: s.contextId, resourceLinkId: "never" }] },
    });
    expect(sent).toEqual([]);
    const ok = await handleCron("backfill", req("backfill", "POST", undefined, { scores: scores.slice(0, 1) }), { dispatcher: inngestWith(send) });
    expect(ok.status).toBe(202);
    expect(sent).toHaveLength(1);
  });
});

describe("/api/cron/backfill dry run with Inngest", () => {
  it("is answered at once with its listing (it only reads), nothing enqueued", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "cr9", resourceLinkId: "r", withLineItem: true });
    await recordScores(scoresFor(s, 2), { source: "webhook" });
    setEnvForTests(testEnv({ LTIAAS_URL: emu.url, JOBS_MODE: "inngest", INNGEST_DEV: "1" }));
    const sent: string[] = [];
    const r = await handleCron("backfill", req("backfill", "POST", undefined, { platformId: s.platformId, dryRun: true }), {
      dispatcher: inngestWith(async (_n, _d, id) => (sent.push(id), id)),
    });
    expect(r.status).toBe(200);
    expect((r.body as { backfill: { wouldSend: number } }).backfill.wouldSend).toBe(2);
    expect(sent).toEqual([]);
  });
});
