import { beforeEach, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import type { GradeClient } from "@/lib/grades/client";
import { prepareLinks } from "@/lib/grades/push";
import { recordScores } from "@/lib/grades/record";
import { createLtiaasClient } from "@/lib/ltiaas";
import { pushDepsOf } from "@/lib/jobs/definitions/push-context";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { TEST_KEYS } from "../support/env";
import { counters, gradeRow, scoresFor, seedTriple, useGradeEnv, type Seeded } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
const g = useGradeEnv(emu);

beforeEach(async () => {
  await truncateAll(t.db);
});

describe("push: the happy path", () => {
  it("sends every pending score once, with scoreMaximum and comment, and a second run sends nothing", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "c1", resourceLinkId: "rl1", withLineItem: true });
    await recordScores(scoresFor(s, 7), { source: "webhook" });
    const run = await g.run("push-grades");
    expect(run.outcome).toBe("completed");
    expect(run.counts).toMatchObject({ sent: 7, skipped: 0, failed: 0, pending: 0 });
    const posts = emu.emulator.scores(s.lineItemId!);
    expect(posts).toHaveLength(7);
    expect(posts.every((p) => p.scoreMaximum === 10 && p.comment?.startsWith("c") && p.auth === "serviceKey")).toBe(true);
    expect(await counters(t.db, s.resourceLinkRef)).toMatchObject({ pending: 0, sent: 7, oldest_pending_at: null });

    const before = emu.emulator.log.length;
    const again = await g.run("push-grades");
    expect(again.counts.sent).toBe(0);
    expect(emu.emulator.log.length).toBe(before);
  });

  it("creates exactly one line item for a link that never had one and reuses it", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "c2", resourceLinkId: "rl2", title: "Lab 2" });
    await recordScores(scoresFor(s, 3), { source: "webhook" });
    await g.push(s.contextRef);
    const items = emu.emulator.lineItems(s.platformId, s.contextId);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ label: "Lab 2", resourceLinkId: "rl2", tag: "gradesync" });
    await recordScores(scoresFor(s, 3, () => 9), { source: "webhook" });
    await g.push(s.contextRef);
    expect(emu.emulator.lineItems(s.platformId, s.contextId)).toHaveLength(1);
    expect(emu.emulator.scores(items[0].id)).toHaveLength(6);
    expect((await gradeRow(t.db, s.resourceLinkRef, "learner-1")).sent_revision).toBe(2);
  });

  it("finds an existing line item by resourceLinkId instead of creating one", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "c3", resourceLinkId: "rl3" });
    const id = emu.emulator.addLineItem(s.platformId, s.contextId, { label: "Theirs", scoreMaximum: 10, resourceLinkId: "rl3" });
    await recordScores(scoresFor(s, 2), { source: "webhook" });
    await g.push(s.contextRef);
    expect(emu.emulator.lineItems(s.platformId, s.contextId)).toHaveLength(1);
    expect(emu.emulator.scores(id)).toHaveLength(2);
  });

  it("a chunk whose lease ran out while it waited renews it when it sends: another run cannot send the same revision meanwhile", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "c4", resourceLinkId: "rl4", withLineItem: true });
    emu.emulator.faults.latencyMs = 600;
    await pushWhileAnotherRunStarts(s, 150, async () => {
      // The first run is slow to get here (a platform hold, a long queue): its lease has run out.
      await pause(1_200);
      // The second run starts while the first one's request is on its way.
    });
    expect(emu.emulator.scores(s.lineItemId!).map((p) => p.userId)).toEqual(["learner-1"]);
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-1")).toMatchObject({ state: "sent", sent_revision: 1 });
  });

  it("a row waits out a Retry-After before its lease is renewed for the request: another run cannot send it meanwhile", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "c4b", resourceLinkId: "rl4b", withLineItem: true });
    await pushWhileAnotherRunStarts(s, 1_200, async () => {
      // Another request of this platform was throttled just now: the whole platform waits 1.5 s,
      // longer than the lease. The second run starts once the lease would have run out.
      g.overrides.gate!.hold(s.platformId, Date.now() + 1_500);
    });
    expect(emu.emulator.scores(s.lineItemId!).map((p) => p.userId)).toEqual(["learner-1"]);
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-1")).toMatchObject({ state: "sent", sent_revision: 1 });
  });

  it("a sent answer waiting to be recorded while the chunk waits out a Retry-After is recorded before its lease runs out", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "c5", resourceLinkId: "rl5", withLineItem: true });
    await recordScores(scoresFor(s, 3), { source: "webhook" });
    // A short lease for the test, still well above one request's time even on a loaded machine (a
    // lease shorter than a request would let another run re-send it: production's is 5 min, requests time out at 20 s).
    const otherDeps = await g.deps();
    g.configure({ push: { leaseMs: 2_000 } });
    // One of the first two requests is throttled for 3 s; the other is sent, and its answer waits in
    // the chunk's buffer while the third row waits for the platform — longer than the lease.
    emu.emulator.faults.rateLimit = { style: "429", retryAfterSeconds: 3, remaining: 1 };
    const first = g.push(s.contextRef);
    // Another process's push, after the first chunk's leases would have run out.
    const second = pause(2_600).then(() => g.pushElsewhere(s.contextRef, otherDeps));
    await Promise.all([first, second]);
    const sentUsers = emu.emulator.scores(s.lineItemId!).map((p) => p.userId);
    // Each learner's one revision reached the LMS exactly once.
    expect(sentUsers.sort()).toEqual(["learner-1", "learner-2", "learner-3"]);
  });

  it("a run whose creation claim ran out while it looked (slow LMS) does not create: the run that took the claim over does", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "c6", resourceLinkId: "rl6", title: "Lab 6" });
    let otherCreated: Promise<string> | undefined;
    const { link, looks } = await resolveWith(s, async (look) => {
      // The look-up made under the claim: it was so slow that another run took the claim over…
      if (look !== 3) return;
      await anotherRunTakesTheClaim(s);
      // …and creates the line item a moment later.
      otherCreated = pause(300).then(() => anotherRunCreates(s, "Lab 6"));
    });
    expect(looks).toBeGreaterThanOrEqual(3);
    expect(createRequests()).toBe(0);
    expect(link).toMatchObject({ state: "ok", lineItemId: await otherCreated });
    expect(emu.emulator.lineItems(s.platformId, s.contextId)).toHaveLength(1);
  });

  it("a run whose creation claim ran out while its create waited for the platform (Retry-After) does not create", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "c7", resourceLinkId: "rl7", title: "Lab 7" });
    let otherCreated: Promise<string> | undefined;
    const { link, looks } = await resolveWith(s, async (look) => {
      // The last look-up under the claim (two per find); right after it another request of this
      // platform is throttled: the create waits 2 s for the platform (well past the takeover below,
      // even on a loaded machine)…
      if (look !== 4) return;
      g.overrides.gate!.hold(s.platformId, Date.now() + 2_000);
      // …during which the claim runs out, another run takes it over and creates the line item.
      otherCreated = pause(200).then(async () => {
        await anotherRunTakesTheClaim(s);
        return anotherRunCreates(s, "Lab 7");
      });
    });
    expect(looks).toBe(4);
    expect(createRequests()).toBe(0);
    expect(link).toMatchObject({ state: "ok", lineItemId: await otherCreated });
    expect(emu.emulator.lineItems(s.platformId, s.contextId)).toHaveLength(1);
  });
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Pushes one learner's score with a 1 s lease. When its row is about to be sent, `atSend` runs, and
 * `secondAfterMs` later a second process's push of the context starts (no shared in-process lock).
 */
async function pushWhileAnotherRunStarts(s: Seeded, secondAfterMs: number, atSend: () => Promise<void>) {
  await recordScores(scoresFor(s, 1), { source: "webhook" });
  const otherDeps = await g.deps();
  let second: Promise<unknown> | undefined;
  g.configure({
    push: {
      leaseMs: 1_000,
      hook: async (point) => {
        if (point !== "before_send" || second) return;
        await atSend();
        second = pause(secondAfterMs).then(() => g.pushElsewhere(s.contextRef, otherDeps));
      },
    },
  });
  await g.push(s.contextRef);
  await second;
}

/** Resolves the link's line item with a client that calls `afterLook(n)` after its n-th look-up. */
async function resolveWith(s: Seeded, afterLook: (look: number) => Promise<void>) {
  await recordScores(scoresFor(s, 1), { source: "webhook" });
  const real = createLtiaasClient({ baseUrl: emu.url, apiKey: TEST_KEYS.apiKey });
  let looks = 0;
  const client: GradeClient = {
    ...real,
    async listLineItems(...args) {
      const items = await real.listLineItems(...args);
      await afterLook(++looks);
      return items;
    },
  };
  const link = (await prepareLinks({ ...pushDepsOf(await g.deps(), null), client }, s.contextRef)).links[0];
  return { link, looks };
}

async function anotherRunTakesTheClaim(s: Seeded) {
  await t.db.execute(sql`UPDATE resource_links SET line_item_claim = 'other-run', line_item_claim_until = now() + interval '60 seconds'
    WHERE id = ${s.resourceLinkRef}::uuid`);
}

/** What the run holding the claim does: creates the line item and records it. */
async function anotherRunCreates(s: Seeded, label: string): Promise<string> {
  const id = emu.emulator.addLineItem(s.platformId, s.contextId, { label, scoreMaximum: 10, resourceLinkId: s.resourceLinkId, tag: "gradesync" });
  await t.db.execute(sql`UPDATE resource_links SET line_item_id = ${id}, line_item_state = 'ok', line_item_created_at = now(),
    line_item_claim = NULL, line_item_claim_until = NULL WHERE id = ${s.resourceLinkRef}::uuid`);
  return id;
}

/** Line item create requests the LMS received. */
const createRequests = () => emu.emulator.log.filter((r) => r.method === "POST" && r.path.startsWith("/api/lineitems") && !r.path.includes("/scores")).length;
