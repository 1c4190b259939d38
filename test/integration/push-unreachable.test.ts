/**
 * LTIAAS unreachable (the dev server's emulator stopped, a wrong LTIAAS_URL): nothing was sent, so no
 * row uses up an attempt; the run stops sending at once instead of retrying row after row, and its
 * summary says so in words.
 */
import { createServer } from "node:net";
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setEnvForTests } from "@/lib/env";
import { DEFAULT_PUSH_TUNING } from "@/lib/grades/push";
import { recordScores } from "@/lib/grades/record";
import { createLtiaasClient } from "@/lib/ltiaas";
import { PlatformGate } from "@/lib/ltiaas/gate";
import { createUndiciTransport, type LtiaasTransport } from "@/lib/ltiaas/transport";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { TEST_KEYS, testEnv } from "../support/env";
import { scoresFor, seedTriple, useGradeEnv } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
const g = useGradeEnv(emu);

/** A loopback port nothing listens on: connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let closedUrl: string;
let requests: number;
let transport: LtiaasTransport;

beforeEach(async () => {
  await truncateAll(t.db);
  closedUrl = `http://127.0.0.1:${await closedPort()}/emulator`;
  requests = 0;
  const undici = createUndiciTransport();
  transport = {
    send: (req) => {
      requests++;
      return undici.send(req);
    },
    close: () => undici.close!(),
  };
});

afterEach(async () => {
  await transport.close?.();
  setEnvForTests(testEnv({ LTIAAS_URL: emu.url }));
});

/** From here on the process's LTIAAS is the closed port; jobs keep their production timings. */
function ltiaasGoesAway() {
  setEnvForTests(testEnv({ LTIAAS_URL: closedUrl }));
  g.configure({ ltiaas: createLtiaasClient({ baseUrl: closedUrl, apiKey: TEST_KEYS.apiKey, transport }), push: { ...DEFAULT_PUSH_TUNING } });
}

const rows = async () =>
  ((await t.db.execute(sql`SELECT state, attempts, reason, coalesce(next_attempt_at <= now() + interval '5 seconds', true) AS soon FROM grade_rows ORDER BY id`)) as unknown as {
    rows: { state: string; attempts: number; reason: string | null; soon: boolean }[];
  }).rows;

describe("LTIAAS unreachable", () => {
  it("a push against a closed port leaves every row pending with its attempts untouched, ends at once, and its summary says so", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "u1", resourceLinkId: "r1", withLineItem: true });
    await recordScores(scoresFor(s, 6), { source: "webhook" });
    ltiaasGoesAway();

    const t0 = Date.now();
    const run = await g.run("push-grades", {}, "cli");
    const elapsed = Date.now() - t0;

    const origin = new URL(closedUrl).origin;
    expect(run).toMatchObject({ outcome: "partial", counts: { sent: 0, skipped: 0, failed: 0, pending: 6 } });
    expect(run.note).toBe(`LTIAAS unreachable at ${origin}: nothing sent, rows left pending`);
    expect(run.counts.unreachable).toBeGreaterThan(0);
    // Rows tried wait a moment; rows never tried are due at once (another run may find LTIAAS back).
    // The first request is the read before writing, on behalf of the whole chunk: all six were tried.
    const left = await rows();
    for (const r of left) expect(r).toMatchObject({ state: "pending", attempts: 0, soon: true });
    expect(left.filter((r) => r.reason === "retry_later: connection failed (ECONNREFUSED)").length).toBe(6);
    // The platform is given up on after the requests already in flight (PLATFORM_CONCURRENCY of
    // them), not retried row after row with backoff (which took 22 s with these timings).
    expect(requests).toBeLessThanOrEqual(testEnv().platformConcurrency);
    expect(elapsed).toBeLessThan(5_000);
  });

  it("rows tried wait a moment, but the run does not sleep on them while the platform is held: it ends", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "u4", resourceLinkId: "r4", withLineItem: true });
    await recordScores(scoresFor(s, 2), { source: "webhook" });
    ltiaasGoesAway();
    const totals = await g.pushElsewhere(s.contextRef);
    // One step to prepare, one chunk: no wait, no second chunk finding the platform still held.
    expect(totals).toMatchObject({ sent: 0, retry: 2, unreachable: 2, steps: 2 });
  });

  it("a line item look-up that cannot reach LTIAAS says the same; the link is not marked missing", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "u2", resourceLinkId: "r2" });
    await recordScores(scoresFor(s, 3), { source: "webhook" });
    ltiaasGoesAway();

    const run = await g.run("push-grades", {}, "cli");
    expect(run).toMatchObject({ outcome: "partial", counts: { sent: 0, pending: 3, unreachable: 1 } });
    expect(run.note).toMatch(/^LTIAAS unreachable at http:\/\/127\.0\.0\.1:\d+: nothing sent, rows left pending$/);
    const [link] = ((await t.db.execute(sql`SELECT line_item_state FROM resource_links WHERE id = ${s.resourceLinkRef}::uuid`)) as unknown as { rows: { line_item_state: string }[] }).rows;
    expect(link.line_item_state).not.toBe("missing");
    for (const r of await rows()) expect(r).toMatchObject({ state: "pending", attempts: 0 });
  });

  it("once LTIAAS answers again, the next run sends the rows", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "u3", resourceLinkId: "r3", withLineItem: true });
    await recordScores(scoresFor(s, 2), { source: "webhook" });
    ltiaasGoesAway();
    await g.run("push-grades", {}, "cli");

    // Another process (a fresh gate) with LTIAAS back: the rows' short wait is waited out, and they go.
    setEnvForTests(testEnv({ LTIAAS_URL: emu.url }));
    g.configure({ ltiaas: createLtiaasClient({ baseUrl: emu.url, apiKey: TEST_KEYS.apiKey }), gate: new PlatformGate(2) });
    const run = await g.run("push-grades", {}, "cli");
    expect(run).toMatchObject({ outcome: "completed", counts: { sent: 2, pending: 0 } });
    expect(run.note).toBeUndefined();
  });
});
