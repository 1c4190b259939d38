/**
 * /api/inngest: served only when jobs run in Inngest (inline it is a 404 that reaches no SDK), and in
 * cloud mode an unsigned call is refused before any function runs.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { setEnvForTests } from "@/lib/env";
import { testEnv } from "../support/env";

// A forged backfill that got through would record its scores: count every attempt to.
const ran = vi.hoisted(() => ({ handlers: 0 }));
vi.mock("@/lib/grades/record", async (importOriginal) => {
  const real = await importOriginal<typeof import("@/lib/grades/record")>();
  return {
    ...real,
    recordScores: async () => {
      ran.handlers++;
      return { duplicate: true };
    },
    findUnknownTriples: async () => {
      ran.handlers++;
      return [];
    },
  };
});

const { GET, POST, PUT } = await import("@/app/api/inngest/route");

const SIGNING_KEY = "signkey-prod-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const saved = { ...process.env };
afterEach(() => {
  vi.restoreAllMocks();
  process.env = { ...saved };
  setEnvForTests(testEnv());
});

const forgedBackfill = () =>
  new Request("http://localhost/api/inngest?fnId=gradesync-backfill&stepId=step", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      event: { name: "gradesync/backfill.requested", data: { request: { scores: [{ platformId: "p", contextId: "c", resourceLinkId: "r", userId: "u", scoreGiven: 10, scoreMaximum: 10 }] } } },
      events: [],
      steps: {},
      ctx: { run_id: "01J0000000000000000000000", attempt: 0, stack: { stack: [] } },
    }),
  });

describe("/api/inngest", () => {
  it("answers 404 to everyone when jobs run inline, whatever the method", async () => {
    setEnvForTests(testEnv());
    for (const handler of [GET, POST, PUT]) {
      const res = await handler(new Request("http://localhost/api/inngest", { method: "POST", body: "{}" }), undefined);
      expect(res.status).toBe(404);
    }
    expect((await POST(forgedBackfill(), undefined)).status).toBe(404);
    expect(ran.handlers).toBe(0);
  });

  it("in Inngest cloud mode (signing key set) refuses an unsigned call before any function runs", async () => {
    delete process.env.INNGEST_DEV;
    process.env.INNGEST_SIGNING_KEY = SIGNING_KEY;
    process.env.INNGEST_EVENT_KEY = "test-event-key";
    setEnvForTests(testEnv({ INNGEST_SIGNING_KEY: SIGNING_KEY, INNGEST_EVENT_KEY: "test-event-key" }));
    // The SDK prints each refusal with a stack trace; the answers are what this test reads.
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = await POST(forgedBackfill(), undefined);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(ran.handlers).toBe(0);
    // A wrong signature fares no better than none.
    const signed = forgedBackfill();
    signed.headers.set("x-inngest-signature", `t=${Math.floor(Date.now() / 1000)}&s=${"0".repeat(64)}`);
    const forged = await POST(signed, undefined);
    expect(forged.status).toBeGreaterThanOrEqual(400);
    expect(forged.status).toBeLessThan(500);
    expect(ran.handlers).toBe(0);
  });
});
