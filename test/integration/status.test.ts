import { beforeEach, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { GET } from "@/app/api/status/route";
import { setDbForTests } from "@/lib/db/client";
import { setEnvForTests } from "@/lib/env";
import { recordScores } from "@/lib/grades/record";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { TEST_KEYS, testEnv } from "../support/env";
import { scoresFor, seedTriple, useGradeEnv } from "../support/seed";
import { brokenDb, expectJson500 } from "../support/broken-db";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
const g = useGradeEnv(emu);

beforeEach(async () => {
  await truncateAll(t.db);
  setEnvForTests(testEnv({ LTIAAS_URL: emu.url }));
});

const get = (query = "", auth: string | null = `Bearer ${TEST_KEYS.admin}`, host = "gradesync.example.com") =>
  GET(new Request(`http://${host}/api/status${query}`, { headers: { host, ...(auth ? { authorization: auth } : {}) } }));

describe("GET /api/status", () => {
  it("needs the admin bearer; without ADMIN_TOKEN, loopback only in development and nobody in production", async () => {
    expect((await get("", null)).status).toBe(401);
    expect((await get("", "Bearer wrong-token-000000000")).status).toBe(401);
    setEnvForTests(testEnv({ LTIAAS_URL: emu.url, ADMIN_TOKEN: undefined }));
    expect((await get("", null, "localhost:3000")).status).toBe(200);
    expect((await get("", null)).status).toBe(401);
    setEnvForTests(testEnv({ LTIAAS_URL: emu.url, ADMIN_TOKEN: undefined, NODE_ENV: "production", GRADESYNC_EMULATOR: "1" }));
    expect((await get("", null, "localhost:3000")).status).toBe(401);
  });

  it("lists one entry per triple, most urgent first, with the contract's fields", async () => {
    const ok = await seedTriple(t.db, emu.emulator, { contextId: "s-ok", resourceLinkId: "r", withLineItem: true, title: "Lab ok" });
    const relaunch = await seedTriple(t.db, emu.emulator, { contextId: "s-rel", resourceLinkId: "r", withLineItem: true });
    const failing = await seedTriple(t.db, emu.emulator, { contextId: "s-fail", resourceLinkId: "r", withLineItem: true });
    const pending = await seedTriple(t.db, emu.emulator, { contextId: "s-pend", resourceLinkId: "r", withLineItem: true });
    await recordScores([...scoresFor(ok, 2), ...scoresFor(relaunch, 2), ...scoresFor(failing, 1)], { source: "webhook" });
    emu.emulator.revokeServiceKey(relaunch.serviceKey);
    emu.emulator.faults.notGradable.add("learner-2");
    emu.emulator.faults.serverErrors = { status: 500, remaining: 5, platformId: "none" };
    await g.run("push-grades");
    await t.db.execute(sql`UPDATE grade_rows SET state = 'failed', failed_at = now(), reason = 'max_attempts: x' WHERE resource_link_ref = ${failing.resourceLinkRef}::uuid`);
    await recordScores(scoresFor(pending, 3), { source: "webhook" });

    const res = await get();
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.next).toBeUndefined();
    expect(body.contexts.map((c: { contextId: string }) => c.contextId)).toEqual(["s-rel", "s-fail", "s-pend", "s-ok"]);
    const first = body.contexts[0];
    expect(first).toMatchObject({
      id: relaunch.resourceLinkRef,
      platformId: "platform-1",
      contextId: "s-rel",
      resourceLinkId: "r",
      title: "Course s-rel",
      key: { state: "needs_relaunch" },
      lineItem: { id: relaunch.lineItemId, state: "ok" },
      scores: { pending: 2, sent: 0, skipped: 0, failed: 0 },
      roster: { refreshedAt: null, members: expect.any(Number), activeLearners: expect.any(Number) },
      lastRun: { kind: "push-grades", outcome: "partial" },
    });
    expect(body.contexts[3]).toMatchObject({ title: "Lab ok", scores: { sent: 1, skipped: 1, pending: 0 }, key: { state: "active" } });

    const filtered = await (await get("?state=pending")).json();
    expect(filtered.contexts.map((c: { contextId: string }) => c.contextId)).toEqual(["s-pend"]);
    const byContext = await (await get("?contextId=s-ok")).json();
    expect(byContext.contexts).toHaveLength(1);
  });

  it("a link launched without grade services (no serviceKey) and nothing to send is ok, not needs_relaunch (as on /admin)", async () => {
    const keyless = await seedTriple(t.db, emu.emulator, { contextId: "s-nokey", resourceLinkId: "r", withLineItem: true });
    const stale = await seedTriple(t.db, emu.emulator, { contextId: "s-stale", resourceLinkId: "r", withLineItem: true });
    await t.db.execute(sql`DELETE FROM service_keys WHERE resource_link_ref = ${keyless.resourceLinkRef}::uuid`);
    await t.db.execute(sql`UPDATE service_keys SET state = 'needs_relaunch' WHERE resource_link_ref = ${stale.resourceLinkRef}::uuid`);
    const body = await (await get()).json();
    expect(body.contexts.map((c: { contextId: string; state: string; key: { state: string } }) => [c.contextId, c.state, c.key.state])).toEqual([
      ["s-stale", "needs_relaunch", "needs_relaunch"],
      ["s-nokey", "ok", "missing"],
    ]);
    const relaunch = await (await get("?state=needs_relaunch")).json();
    expect(relaunch.contexts.map((c: { contextId: string }) => c.contextId)).toEqual(["s-stale"]);
  });

  it("pages with a cursor (limit default 100, max 1000) and rejects bad queries", async () => {
    for (let i = 0; i < 5; i++) await seedTriple(t.db, emu.emulator, { contextId: `pg${i}`, resourceLinkId: "r", withLineItem: true, learners: 1 });
    const seen: string[] = [];
    let next: string | undefined;
    let pages = 0;
    do {
      const body = await (await get(`?limit=2${next ? `&cursor=${next}` : ""}`)).json();
      seen.push(...body.contexts.map((c: { id: string }) => c.id));
      next = body.next;
      pages++;
    } while (next);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(5);
    expect((await get("?limit=1001")).status).toBe(400);
    expect((await get("?state=bogus")).status).toBe(400);
    expect((await get("?cursor=garbage")).status).toBe(400);
    // Well-formed but forged: what goes back to Postgres is checked too (400, not a 500).
    const forged = Buffer.from(JSON.stringify([2, "not a time", "00000000-0000-4000-8000-000000000000"])).toString("base64url");
    expect((await get(`?cursor=${forged}`)).status).toBe(400);
    expect((await get("?contextId=a%00b")).status).toBe(400);
  });

  it("pages across urgency ranks and pending ages without skipping or repeating an entry", async () => {
    const seeded = [];
    for (let i = 0; i < 7; i++) seeded.push(await seedTriple(t.db, emu.emulator, { contextId: `mix${i}`, resourceLinkId: "r", withLineItem: true, learners: 1 }));
    await recordScores(seeded.slice(0, 5).flatMap((s) => scoresFor(s, 1)), { source: "webhook" });
    // Distinct ages, microseconds included, and two links with exactly the same age.
    for (const [i, age] of [[0, "10.123456"], [1, "20.654321"], [2, "20.654321"], [3, "5.000001"]] as const)
      await t.db.execute(sql`UPDATE grade_counters SET oldest_pending_at = now() - ${`${age} seconds`}::interval WHERE resource_link_ref = ${seeded[i].resourceLinkRef}::uuid`);
    await t.db.execute(sql`UPDATE service_keys SET state = 'needs_relaunch' WHERE resource_link_ref = ${seeded[4].resourceLinkRef}::uuid`);
    const all = (await (await get("?limit=1000")).json()).contexts.map((c: { id: string }) => c.id);
    expect(all).toHaveLength(7);
    expect(all[0]).toBe(seeded[4].resourceLinkRef);
    const paged: string[] = [];
    let next: string | undefined;
    do {
      const body = await (await get(`?limit=1${next ? `&cursor=${next}` : ""}`)).json();
      paged.push(...body.contexts.map((c: { id: string }) => c.id));
      next = body.next;
    } while (next && paged.length < 20);
    expect(paged).toEqual(all);
  });

  it("answers a JSON 500 without details when the database fails", async () => {
    setDbForTests(brokenDb);
    try {
      await expectJson500(await get());
    } finally {
      setDbForTests(t.handle);
    }
  });
});
