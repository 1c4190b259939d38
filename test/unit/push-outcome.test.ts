/** What an LTIAAS answer means for its row: the pure mapping of lib/grades/push/outcome.ts. */
import { describe, expect, it } from "vitest";
import { DEFAULT_PUSH_TUNING } from "@/lib/grades/push";
import { MIN_RETRY_AFTER_MS, UNREACHABLE_HOLD_MS } from "@/lib/grades/push/deps";
import { outcomeOf } from "@/lib/grades/push/outcome";
import { LtiaasError } from "@/lib/ltiaas/errors";
import { unreachableNote } from "@/lib/jobs/runs";

const transport = (reason: string, unreachable?: boolean) => new LtiaasError({ kind: "retry_later", operation: "postScore", reason, unreachable });

describe("outcome of a transport failure", () => {
  it("LTIAAS unreachable (refused, no such host, no route): retried after a short wait without using up an attempt, the platform held", () => {
    for (const code of ["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH"]) {
      const o = outcomeOf(transport(`connection failed (${code})`, true), 2_000);
      expect(o, code).toEqual({
        kind: "retry",
        reason: `retry_later: connection failed (${code})`,
        status: null,
        waitMs: MIN_RETRY_AFTER_MS,
        holdMs: UNREACHABLE_HOLD_MS,
        countsAttempt: false,
        unreachable: true,
      });
    }
  });

  it("holds the platform longer than a run waits inline, so the run ends instead of retrying row after row", () => {
    expect(UNREACHABLE_HOLD_MS).toBeGreaterThan(DEFAULT_PUSH_TUNING.maxWaitMs);
  });

  it("a reset or a timeout once connected may have reached LTIAAS: it uses up an attempt, with backoff, and holds nothing", () => {
    for (const reason of ["connection failed (ECONNRESET)", "timed out after 20000 ms"]) {
      const o = outcomeOf(transport(reason), 2_000);
      expect(o, reason).toMatchObject({ kind: "retry", countsAttempt: true, waitMs: undefined, holdMs: undefined });
      expect(o, reason).not.toHaveProperty("unreachable", true);
    }
  });

  it("an answer with a status is never unreachable, whatever else it says", () => {
    const o = outcomeOf(new LtiaasError({ kind: "retry_later", operation: "postScore", status: 503, reason: "connection failed (ECONNREFUSED)" }), 2_000);
    expect(o).toMatchObject({ kind: "retry", status: 503, countsAttempt: true });
    expect(o).not.toHaveProperty("unreachable", true);
  });
});

describe("a run's note when LTIAAS was unreachable", () => {
  const url = "http://127.0.0.1:4010/emulator";

  it("says where LTIAAS was looked for (its origin), that nothing was sent and the rows wait", () => {
    expect(unreachableNote({ sent: 0, skipped: 0, failed: 0, pending: 3, unreachable: 2 }, url)).toBe(
      "LTIAAS unreachable at http://127.0.0.1:4010: nothing sent, rows left pending",
    );
  });

  it("says nothing when LTIAAS was reached, or something went through", () => {
    expect(unreachableNote({ sent: 0, pending: 3 }, url)).toBeUndefined();
    expect(unreachableNote({ sent: 1, pending: 3, unreachable: 2 }, url)).toBeUndefined();
    expect(unreachableNote({ skipped: 1, unreachable: 2 }, url)).toBeUndefined();
  });
});
