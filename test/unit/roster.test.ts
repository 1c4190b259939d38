import { describe, expect, it } from "vitest";
import { PlatformGate } from "@/lib/ltiaas/gate";
import { LtiaasError } from "@/lib/ltiaas";
import { toRows } from "@/lib/roster/apply";
import { fetchRoster, RosterRetryLater } from "@/lib/roster/fetch";
import { tally } from "@/lib/roster/refresh";
import { staleAfterSeconds } from "@/lib/roster/targets";
import { explainNotGradable, type RosterMember } from "@/lib/roster/view";

const member = (over: Partial<RosterMember> = {}): RosterMember => ({
  userId: "u1",
  name: null,
  kind: "learner",
  status: "Active",
  testUser: false,
  ...over,
});

describe("explainNotGradable", () => {
  it("puts the roster's view in plain words, most telling reason first", () => {
    expect(explainNotGradable(undefined)).toBe("not on the roster");
    expect(explainNotGradable(member({ status: "Inactive" }))).toBe("left the course");
    expect(explainNotGradable(member({ status: "Deleted", kind: "teacher" }))).toBe("left the course");
    expect(explainNotGradable(member({ testUser: true }))).toBe("a test user");
    expect(explainNotGradable(member({ kind: "teacher" }))).toBe("not a learner in this course");
    expect(explainNotGradable(member({ kind: "mentor" }))).toBe("not a learner in this course");
    expect(explainNotGradable(member({ kind: "other" }))).toBe("not a learner in this course");
    expect(explainNotGradable(member())).toBeNull();
  });
});

describe("toRows", () => {
  it("classifies roles as parsed URIs, composes names, and keeps the last entry of a user listed twice", () => {
    const rows = toRows([
      { userId: "a", roles: ["http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#Instructor"], status: "Active" },
      { userId: "b", roles: ["Learner", "http://purl.imsglobal.org/vocab/lti/system/person#TestUser"], status: "Active", givenName: "Test", familyName: "Student" },
      { userId: "c", roles: ["Instructor"], status: "Active", name: "First" },
      { userId: "c", roles: ["Learner"], status: "Inactive", name: "Second", email: "c@example.edu" },
      { userId: "d", roles: ["http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"], status: "Deleted" },
    ]);
    expect(rows).toEqual([
      { user_id: "a", name: null, email: null, roles: ["http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#Instructor"], kind: "learner", test_user: false, status: "Active" },
      { user_id: "b", name: "Test Student", email: null, roles: ["Learner", "http://purl.imsglobal.org/vocab/lti/system/person#TestUser"], kind: "learner", test_user: true, status: "Active" },
      { user_id: "c", name: "Second", email: "c@example.edu", roles: ["Learner"], kind: "learner", test_user: false, status: "Inactive" },
      { user_id: "d", name: null, email: null, roles: ["http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"], kind: "mentor", test_user: false, status: "Deleted" },
    ]);
  });
});

describe("staleAfterSeconds", () => {
  it("leaves a grace under the cron period so a roster refreshed just after one tick is due at the next", () => {
    expect(staleAfterSeconds(12)).toBe(12 * 3600 - 1800);
    expect(staleAfterSeconds(1)).toBe(3600 - 900);
    expect(staleAfterSeconds(48)).toBe(48 * 3600 - 1800);
  });
});

describe("tally", () => {
  it("counts contexts by outcome and reason, members and Inactive marks", () => {
    expect(
      tally([
        { contextRef: "a", outcome: "refreshed", members: 10, activeLearners: 8, inactivated: 2, pages: 1, retried: 1, statements: 4 },
        { contextRef: "b", outcome: "refreshed", members: 5, activeLearners: 5, inactivated: 0, pages: 1, retried: 0, statements: 4 },
        { contextRef: "c", outcome: "skipped", reason: "no_nrps" },
        { contextRef: "d", outcome: "failed", reason: "needs_relaunch", retried: 0 },
        { contextRef: "e", outcome: "failed", reason: "retry_later", retried: 3 },
      ]),
    ).toEqual({ refreshed: 2, skipped: 1, failed: 2, members: 15, inactivated: 2, retried: 4, skipped_no_nrps: 1, failed_needs_relaunch: 1, failed_retry_later: 1 });
  });
});

describe("fetchRoster", () => {
  const tuning = { maxAttempts: 3, backoffBaseMs: 1, maxWaitMs: 50, parallelContexts: 1, debounceMs: 1 };
  const page = (ids: string[], next?: string) => ({ members: ids.map((userId) => ({ userId, roles: ["Learner"], status: "Active" as const })), ...(next ? { next } : {}) });

  it("follows next links and gathers every page", async () => {
    const calls: unknown[] = [];
    const client = {
      listMembershipsPage: async (_auth: unknown, q?: object) => {
        calls.push(q);
        return q && "url" in q ? page(["c"]) : page(["a", "b"], "https://ltiaas/next");
      },
    };
    const r = await fetchRoster({ client, gate: new PlatformGate(1), tuning }, "p", "key");
    expect(r.members.map((m) => m.userId)).toEqual(["a", "b", "c"]);
    expect(r.pages).toBe(2);
    expect(calls).toEqual([{ limit: 100 }, { url: "https://ltiaas/next" }]);
  });

  it("stops a paging loop that repeats itself", async () => {
    const client = { listMembershipsPage: async () => page(["a"], "https://ltiaas/same") };
    await expect(fetchRoster({ client, gate: new PlatformGate(1), tuning }, "p", "key")).rejects.toMatchObject({ kind: "bad_response" });
  });

  it("retries a 5xx a bounded number of times, then gives up as retry later", async () => {
    let n = 0;
    const client = {
      listMembershipsPage: async () => {
        n++;
        throw new LtiaasError({ kind: "retry_later", operation: "listMemberships", status: 502 });
      },
    };
    const err = await fetchRoster({ client, gate: new PlatformGate(1), tuning }, "p", "key").catch((e) => e);
    expect(err).toBeInstanceOf(RosterRetryLater);
    expect(n).toBe(3);
  });

  it("holds the platform for a Retry-After, and does not sleep through one longer than the budget", async () => {
    const gate = new PlatformGate(1);
    let n = 0;
    const client = {
      listMembershipsPage: async () => {
        n++;
        throw new LtiaasError({ kind: "retry_later", operation: "listMemberships", status: 429, retryAfterSeconds: 60 });
      },
    };
    const before = Date.now();
    const err = await fetchRoster({ client, gate, tuning }, "p", "key").catch((e) => e);
    expect(err).toBeInstanceOf(RosterRetryLater);
    expect(err.waitMs).toBe(60_000);
    expect(n).toBe(1);
    expect(gate.heldUntil("p")).toBeGreaterThanOrEqual(before + 60_000);
  });

  it("does not retry a 401", async () => {
    let n = 0;
    const client = {
      listMembershipsPage: async () => {
        n++;
        throw new LtiaasError({ kind: "needs_relaunch", operation: "listMemberships", status: 401 });
      },
    };
    await expect(fetchRoster({ client, gate: new PlatformGate(1), tuning }, "p", "key")).rejects.toMatchObject({ kind: "needs_relaunch" });
    expect(n).toBe(1);
  });
});
