import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { setDbForTests } from "@/lib/db/client";
import { setEnvForTests } from "@/lib/env";
import { pruneDeliveries } from "@/lib/grades/deliveries";
import { dispatcher } from "@/lib/jobs/dispatch";
import { signatureHeader } from "@/lib/grades/signature";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { TEST_KEYS, testEnv } from "../support/env";
import { counters, gradeRow, seedTriple, useGradeEnv, type Seeded } from "../support/seed";
import { brokenDb, expectJson500 } from "../support/broken-db";
import { countRows, postWebhook, webhookEntry } from "../support/webhook";

const t = useTestDb();
const emu = useEmulator();
useGradeEnv(emu);

let s: Seeded;
beforeEach(async () => {
  await truncateAll(t.db);
  s = await seedTriple(t.db, emu.emulator, { contextId: "wc1", resourceLinkId: "wrl1", withLineItem: true });
});
// The route asks the process's dispatcher for a push soon: nothing is left to fire after a test.
afterEach(() => dispatcher().cancelWaiting());

const entry = (over: Record<string, unknown> = {}) => webhookEntry(s, over);
const post = postWebhook;

const rowCount = () => countRows(t.db, "grade_rows");

describe("POST /api/webhooks/grades", () => {
  it("accepts a signed delivery: 202, a pending row, a push scheduled for its context", async () => {
    const res = await post({ id: "d-1", scores: [entry(), entry({ userId: "learner-2", comment: "ok" })] });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 2 });
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-1")).toMatchObject({ state: "pending", revision: 1, score_given: 8 });
    expect(await counters(t.db, s.resourceLinkRef)).toMatchObject({ pending: 2, sent: 0 });
    expect(dispatcher().waiting("push-context")).toEqual([s.contextRef]);
  });

  it("answers 503 when the secret is unset", async () => {
    setEnvForTests(testEnv({ LTIAAS_URL: emu.url, GRADER_WEBHOOK_SECRET: undefined }));
    try {
      const res = await post({ id: "d-x", scores: [entry()] });
      expect(res.status).toBe(503);
    } finally {
      setEnvForTests(testEnv({ LTIAAS_URL: emu.url }));
    }
  });

  it("answers 413 above 1 MiB, before looking at the signature", async () => {
    const big = JSON.stringify({ id: "d-big", scores: [entry({ comment: "x".repeat(1_048_600) })] });
    const res = await post(null, { raw: big, header: null });
    expect(res.status).toBe(413);
    expect(await rowCount()).toBe(0);
  });

  it.each([
    ["missing", null],
    ["malformed", "t=abc,v1=zz"],
    ["no v1", `t=${Math.floor(Date.now() / 1000)}`],
  ])("answers 401 for a %s signature", async (_name, header) => {
    const res = await post({ id: "d-2", scores: [entry()] }, { header });
    expect(res.status).toBe(401);
    expect(await rowCount()).toBe(0);
  });

  it("answers 401 for a wrong secret, and for a timestamp outside 300 s; one matching v1 among several suffices", async () => {
    expect((await post({ id: "d-3", scores: [entry()] }, { secret: "another-secret-entirely" })).status).toBe(401);
    const old = Math.floor(Date.now() / 1000) - 301;
    expect((await post({ id: "d-3", scores: [entry()] }, { t: old })).status).toBe(401);
    const raw = JSON.stringify({ id: "d-3", scores: [entry()] });
    const now = Math.floor(Date.now() / 1000);
    const good = signatureHeader(TEST_KEYS.webhook, raw, now);
    const wrong = signatureHeader("another-secret-entirely", raw, now).split(",")[1];
    expect((await post(null, { raw, header: `${good.split(",")[0]},${wrong},${good.split(",")[1]}` })).status).toBe(202);
  });

  it("answers 400 with zod issues for bad JSON or schema", async () => {
    const bad = await post(null, { raw: "{not json" });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toBe("invalid_body");
    const res = await post({ id: "d-4", scores: [entry({ scoreGiven: -1 }), entry({ scoreMaximum: undefined })] });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toBe("invalid_body");
    expect(body.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: ["scores", 0, "scoreGiven"] }),
        expect.objectContaining({ path: ["scores", 1, "scoreMaximum"] }),
      ]),
    );
    expect((await post({ id: "d-5", scores: [] })).status).toBe(400);
    expect(await rowCount()).toBe(0);
  });

  it("answers 200 duplicate for a delivery id already recorded, whatever the body", async () => {
    expect((await post({ id: "d-6", scores: [entry()] })).status).toBe(202);
    const again = await post({ id: "d-6", scores: [entry({ scoreGiven: 1 }), entry({ userId: "learner-9" })] });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ duplicate: true });
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-1")).toMatchObject({ revision: 1, score_given: 8 });
    expect(await rowCount()).toBe(1);
  });

  it("answers 422 for a triple never launched, records nothing, and does not remember the id", async () => {
    const res = await post({ id: "d-7", scores: [entry(), entry({ resourceLinkId: "never" })] });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      error: "unknown_triple",
      unknown: [{ index: 1, platformId: s.platformId, contextId: s.contextId, resourceLinkId: "never" }],
    });
    expect(await rowCount()).toBe(0);
    // The grader may retry the same id once the bad entry is fixed.
    expect((await post({ id: "d-7", scores: [entry()] })).status).toBe(202);
  });

  it("audits an older gradedAt without replacing; on equal gradedAt the later delivery wins", async () => {
    const at = "2026-11-27T10:00:00.000Z";
    await post({ id: "d-8", scores: [entry({ scoreGiven: 7, gradedAt: at })] });
    await post({ id: "d-9", scores: [entry({ scoreGiven: 3, gradedAt: "2026-11-27T09:00:00.000Z" })] });
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-1")).toMatchObject({ revision: 1, score_given: 7 });
    await post({ id: "d-10", scores: [entry({ scoreGiven: 9, gradedAt: at })] });
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-1")).toMatchObject({ revision: 2, score_given: 9 });
    const { rows } = (await t.db.execute(
      sql`SELECT applied, note, score_given, delivery_id FROM grade_revisions ORDER BY id`,
    )) as unknown as { rows: { applied: boolean; note: string | null; score_given: number; delivery_id: string }[] };
    expect(rows).toEqual([
      { applied: true, note: null, score_given: 7, delivery_id: "d-8" },
      { applied: false, note: "older_graded_at", score_given: 3, delivery_id: "d-9" },
      { applied: true, note: null, score_given: 9, delivery_id: "d-10" },
    ]);
  });

  it("answers a JSON 500 without details when something unexpected fails (e.g. the database)", async () => {
    setDbForTests(brokenDb);
    try {
      await expectJson500(await post({ id: "d-500", scores: [entry()] }));
    } finally {
      setDbForTests(t.handle);
    }
    // Nothing was remembered: the grader's retry is accepted.
    expect((await post({ id: "d-500", scores: [entry()] })).status).toBe(202);
  });

  it("a delivery id stays a duplicate for 30 days, even if the prune is asked for less (the nightly prune is in ledger.test)", async () => {
    expect((await post({ id: "d-month", scores: [entry()] })).status).toBe(202);
    await t.db.execute(sql`UPDATE webhook_deliveries SET received_at = now() - interval '30 days' + interval '1 hour'`);
    expect(await pruneDeliveries(t.db, 1)).toBe(0);
    expect((await post({ id: "d-month", scores: [entry({ scoreGiven: 1 })] })).status).toBe(200);
  });

  it("answers 400, not 500, for text Postgres cannot store (a NUL character), and records nothing", async () => {
    const res = await post({ id: "d-nul", scores: [entry({ comment: "good\u0000work" }), entry({ userId: "learner\u0000-2" })] });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toBe("invalid_body");
    expect(body.issues.map((i: { path: unknown[] }) => i.path)).toEqual([
      ["scores", 0, "comment"],
      ["scores", 1, "userId"],
    ]);
    expect(await rowCount()).toBe(0);
    expect((await post({ id: "d-nul", scores: [entry({ comment: "good work" })] })).status).toBe(202);
  });
});
