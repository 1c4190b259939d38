/**
 * Issue 11, as an attacker or a careless client would try it: every input below once reached the
 * database (or a header) and came back as a 500, or was accepted when it had to be refused. Each
 * answer must now be a 4xx with words (or accepted and stored cleaned), and nothing is recorded
 * unless the answer says so. (What needs the production build — the proxy, Next's own routing,
 * the environment check at start — is in test/e2e/hostile.test.ts.)
 */
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { submitQuizAction } from "@/app/activity/[id]/actions";
import { backfillAction, signInAction } from "@/app/admin/actions";
import { platformCeilingAction, platformPauseAction, reconcileAction } from "@/app/admin/operator-actions";
import { retryFailedAction, syncNowAction } from "@/app/contexts/[id]/actions";
import { UNREADABLE_FORM } from "@/app/_lib/form-payload";
import { POST as cronPost } from "@/app/api/cron/[job]/route";
import { GET as statusGet } from "@/app/api/status/route";
import { GET as launchGet } from "@/app/launch/route";
import { proxy } from "@/proxy";
import { setDbForTests } from "@/lib/db/client";
import { rowsOf } from "@/lib/db/rows";
import { dispatcher } from "@/lib/jobs/dispatch";
import { createSession, verifySession } from "@/lib/session/session";
import { resetSignInThrottleForTests } from "@/lib/sign-in-throttle";
import { searchQuerySchema } from "@/lib/views/admin";
import { NextRequest } from "next/server";
import { downDb } from "../support/broken-db";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { TEST_KEYS } from "../support/env";
import { gradeRow, seedTriple, useGradeEnv, type Seeded } from "../support/seed";
import { countRows, postWebhook, webhookEntry } from "../support/webhook";

const requestHeaders = vi.hoisted(() => ({ value: new Headers({ host: "localhost:3000" }) }));
vi.mock("next/headers", () => ({
  cookies: async () => ({ get: () => undefined, set: () => undefined, delete: () => undefined }),
  headers: async () => requestHeaders.value,
}));
vi.mock("next/navigation", () => ({
  unauthorized: () => {
    throw new Error("401");
  },
  redirect: (to: string) => {
    throw new Error(`redirect ${to}`);
  },
}));
vi.mock("next/cache", () => ({ refresh: () => undefined, revalidatePath: () => undefined }));

const t = useTestDb();
const emu = useEmulator();
useGradeEnv(emu);

let s: Seeded;
beforeEach(async () => {
  await truncateAll(t.db);
  emu.emulator.reset();
  s = await seedTriple(t.db, emu.emulator, { contextId: "hc1", resourceLinkId: "hrl1", withLineItem: true });
  resetSignInThrottleForTests();
});
// A recorded score asks the process's dispatcher for a push soon: nothing is left to fire after a test.
afterEach(() => dispatcher().cancelWaiting());

const count = (table: string) => countRows(t.db, table);
const recorded = async () => ({ rows: await count("grade_rows"), revisions: await count("grade_revisions"), deliveries: await count("webhook_deliveries") });
const nothing = { rows: 0, revisions: 0, deliveries: 0 };

const entry = (over: Record<string, unknown> = {}) => webhookEntry(s, over);

const webhook = (body: unknown) => postWebhook(body);

const backfill = (body: unknown) =>
  cronPost(
    new Request("http://localhost/api/cron/backfill", {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_KEYS.cron}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    { params: Promise.resolve({ job: "backfill" }) },
  );

const CJK_1024 = "\u4e00".repeat(1024);
const future = (ms: number) => new Date(Date.now() + ms).toISOString();

/** Inputs the database cannot store, each with the field the 400 must name. */
const unstorable: [string, Record<string, unknown>, string][] = [
  ["a comment with a lone surrogate", { comment: "good \ud800 work" }, "comment"],
  ["a userId with a lone surrogate", { userId: "learner-\udc00" }, "userId"],
  ["a userId of 1,024 CJK characters (over Postgres's index row limit)", { userId: CJK_1024 }, "userId"],
  ["a userId of 256 characters", { userId: "u".repeat(256) }, "userId"],
  ["a gradedAt in year 0 (timestamptz cannot hold it)", { gradedAt: "0000-01-01T00:00:00Z" }, "gradedAt"],
  ["a far-future gradedAt (it would freeze the row)", { gradedAt: "9999-12-31T23:59:59Z" }, "gradedAt"],
  ["a gradedAt before 2000", { gradedAt: "1999-12-31T23:59:59Z" }, "gradedAt"],
  ["a gradedAt six minutes ahead", { gradedAt: future(6 * 60_000) }, "gradedAt"],
];

describe("the grader webhook", () => {
  it.each(unstorable)("refuses %s with a 400 naming the field, recording nothing", async (_name, over, field) => {
    const res = await webhook({ id: "d-hostile", scores: [entry(), entry(over)] });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toBe("invalid_body");
    expect(body.issues).toContainEqual(expect.objectContaining({ path: ["scores", 1, field] }));
    expect(await recorded()).toEqual(nothing);
  });

  it("refuses a delivery id the database cannot key by", async () => {
    for (const id of ["d\u0000", "d\ud800", "d".repeat(256)]) {
      const res = await webhook({ id, scores: [entry()] });
      expect(res.status).toBe(400);
      expect((await res.json()).issues).toContainEqual(expect.objectContaining({ path: ["id"] }));
    }
    expect(await recorded()).toEqual(nothing);
  });

  it("takes 255 characters counted as a person counts them (astral ones too), and a clock a little ahead", async () => {
    const res = await webhook({ id: "\u{1F600}".repeat(255), scores: [entry({ userId: "\u{1F600}".repeat(255), gradedAt: future(4 * 60_000) })] });
    expect(res.status).toBe(202);
    expect(await gradeRow(t.db, s.resourceLinkRef, "\u{1F600}".repeat(255))).toMatchObject({ state: "pending", revision: 1 });
  });

  it("cannot freeze a row with a far-future gradedAt: the next real score still replaces the current one", async () => {
    expect((await webhook({ id: "d-far", scores: [entry({ scoreGiven: 1, gradedAt: "9999-12-31T00:00:00Z" })] })).status).toBe(400);
    expect((await webhook({ id: "d-now", scores: [entry({ scoreGiven: 9 })] })).status).toBe(202);
    expect(await gradeRow(t.db, s.resourceLinkRef, "learner-1")).toMatchObject({ score_given: 9, revision: 1 });
  });
});

describe("POST /api/cron/backfill", () => {
  it.each(unstorable)("refuses corrections with %s (400 naming the field)", async (_name, over, field) => {
    const res = await backfill({ scores: [entry(), entry(over)] });
    expect(res.status).toBe(400);
    expect((await res.json()).issues).toContainEqual(expect.objectContaining({ path: expect.arrayContaining([field]) }));
    expect(await recorded()).toEqual(nothing);
  });

  it("refuses a selector whose since the database cannot take, dry run or not", async () => {
    for (const since of ["0000-01-01T00:00:00Z", "9999-12-31T00:00:00Z", "1999-01-01T00:00:00Z"])
      for (const dryRun of [true, false]) {
        const res = await backfill({ platformId: s.platformId, since, dryRun });
        expect(res.status).toBe(400);
        expect((await res.json()).issues).toContainEqual(expect.objectContaining({ path: expect.arrayContaining(["since"]) }));
      }
    for (const platformId of ["p\ud800", "p".repeat(256)]) expect((await backfill({ platformId, dryRun: true })).status).toBe(400);
    expect(await count("sync_runs")).toBe(0);
  });
});

describe("GET /api/status", () => {
  const status = (query: string) => statusGet(new Request(`http://localhost/api/status${query}`, { headers: { authorization: `Bearer ${TEST_KEYS.admin}` } }));
  const cursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

  it("refuses a cursor whose timestamp has the right shape but names no instant (400, not the cast's 500)", async () => {
    for (const when of ["2026-13-45 99:99:99+00", "2026-02-30 10:00:00+00", "2026-01-01 24:00:00+00", "2026-01-01 10:00:00+16"]) {
      const res = await status(`?cursor=${cursor([0, when, 0, "00000000-0000-4000-8000-000000000000"])}`);
      expect(res.status).toBe(400);
      expect((await res.json()).issues).toContainEqual(expect.objectContaining({ path: ["cursor"] }));
    }
    // Real instants as Postgres writes them still page.
    for (const when of ["2026-11-27 10:00:00.123+00", "2024-02-29 23:59:59-05:30", "infinity"])
      expect((await status(`?cursor=${cursor([3, when, -2, "00000000-0000-4000-8000-000000000000"])}`)).status).toBe(200);
  });

  it("refuses filters the database cannot compare (NUL, over 255 characters)", async () => {
    for (const q of ["?platformId=p%00q", `?contextId=${"c".repeat(256)}`, "?cursor=%00"]) expect((await status(q)).status).toBe(400);
  });
});

describe("GET /launch", () => {
  const INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
  const launchReq = (ltik: string) => launchGet(new Request(`http://localhost/launch?ltik=${encodeURIComponent(ltik)}`));
  const idtokenCalls = () => emu.emulator.log.filter((e) => e.path.startsWith("/api/idtoken")).length;
  const launch = (over: Record<string, unknown> = {}) =>
    emu.emulator.createLaunch({ platformId: "hp", contextId: "hc", resourceLinkId: "hr", user: { id: "t1", name: "Ada" }, roles: [INSTRUCTOR], ...over });

  it("refuses an ltik that cannot be a header value with 401, without calling LTIAAS", async () => {
    for (const ltik of ["\r\nX-Injected: 1", "a\u0000b", "a b", "ltik-\u00e9", "\u4e00".repeat(10)]) {
      const res = await launchReq(ltik);
      expect(res.status).toBe(401);
      expect(await res.text()).toContain("not valid");
    }
    expect(idtokenCalls()).toBe(0);
  });

  it("answers the contract's 502 for an idtoken whose ids exceed 255 characters, storing nothing", async () => {
    for (const over of [{ user: { id: "\u4e00".repeat(3000) } }, { contextId: "\u4e00".repeat(3000) }, { resourceLinkId: "r".repeat(256) }, { user: { id: "u\ud800" } }, { user: { id: "u\u0000" } }]) {
      const res = await launchReq(launch(over).ltik);
      expect(res.status).toBe(502);
      expect(await res.text()).toContain("cannot read");
    }
    const [{ n: stored }] = await rowsOf<{ n: number }>(t.db, sql`SELECT count(*)::int AS n FROM platforms WHERE platform_id = 'hp'`);
    expect(stored).toBe(0);
  });

  it("stores LMS display text with lone surrogates cleaned (U+FFFD), not refused", async () => {
    const res = await launchReq(launch({ user: { id: "t1", name: "Ada \ud800", email: "a\udfff@x.example" }, contextTitle: "Bio\ud83d", resourceLinkTitle: "Lab\u0000 3" }).ltik);
    expect(res.status).toBe(303);
    const [u] = ((await t.db.execute(sql`SELECT name, email FROM users WHERE user_id = 't1'`)) as unknown as { rows: { name: string; email: string }[] }).rows;
    expect(u).toEqual({ name: "Ada \ufffd", email: "a\ufffd@x.example" });
  });

  // The platform URL becomes a Content-Security-Policy header: it must not be able to add directives.
  it("lets only a plain https origin frame the pages: no injected directive, no wildcard", async () => {
    for (const platformUrl of ["https://a.example;script-src", "https://*", "https://*.example.com", "http://lms.example.com", "https://a.example script-src 'unsafe-inline'"]) {
      emu.emulator.reset();
      const res = await launchReq(launch({ platformUrl }).ltik);
      expect(res.status).toBe(303);
      const location = new URL(res.headers.get("location")!, "http://localhost");
      const session = await verifySession(location.searchParams.get("s"));
      expect(session?.lmsOrigins).toEqual([]);
      const answer = await proxy(new NextRequest(location));
      expect(answer.headers.get("content-security-policy")).toBe("frame-ancestors 'self'");
    }
    emu.emulator.reset();
    const good = await launchReq(launch({ platformUrl: "https://school.instructure.com" }).ltik);
    const goodUrl = new URL(good.headers.get("location")!, "http://localhost");
    expect((await proxy(new NextRequest(goodUrl))).headers.get("content-security-policy")).toBe("frame-ancestors 'self' https://school.instructure.com");
  });

  it("re-checks the origins a session carries before they become a header", async () => {
    const { token } = await createSession({
      platformRef: s.platformRef,
      contextRef: s.contextRef,
      userRef: "00000000-0000-4000-8000-000000000001",
      role: "teacher",
      lmsOrigins: ["https://a.example;script-src *", "https://ok.example"],
    });
    const answer = await proxy(new NextRequest(`http://localhost/contexts/${s.resourceLinkRef}?s=${token}`));
    expect(answer.headers.get("content-security-policy")).toBe("frame-ancestors 'self' https://ok.example");
  });
});

describe("the admin dashboard's search", () => {
  it("never takes a NUL (it reached the query, and the whole page said the database was unreachable)", () => {
    expect(searchQuerySchema.safeParse("x\u0000y").success).toBe(false);
    expect(searchQuerySchema.safeParse("x\ud800").success).toBe(false);
    expect(searchQuerySchema.safeParse(" learner-1 ").success).toBe(true);
  });
});

function formOf(fields: Record<string, string>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  return f;
}

describe("server actions posted without a form", () => {
  // Next reads a text/plain body as JSON arguments: `[null,"x"]` calls the action with (null, "x").
  const payloads: [string, unknown, unknown][] = [
    ["[null, \"x\"]", null, "x"],
    ["[{}, 1]", {}, 1],
    ["[\"x\", null]", "x", null],
    ["[[], {get: 1}]", [], { get: 1 }],
    ["[{}, []]", {}, []],
  ];
  const actions = {
    quiz: submitQuizAction,
    "Sync now": syncNowAction,
    "Retry failed": retryFailedAction,
    "sign-in": signInAction,
    backfill: backfillAction,
    "platform pause": platformPauseAction,
    "platform ceiling": platformCeilingAction,
    reconcile: reconcileAction,
  } as Record<string, (prev: unknown, form: unknown) => Promise<unknown>>;

  it.each(Object.keys(actions))("the %s action answers with words, never a.get is not a function", async (name) => {
    for (const [, prev, form] of payloads) {
      const answer = JSON.stringify(await actions[name](prev, form));
      expect(answer).toContain(UNREADABLE_FORM);
    }
    expect(await recorded()).toEqual(nothing);
  });
});

describe("the quiz while the database is down", () => {
  it("says the answers were not saved (not that nothing is lost) and hands them back to the form", async () => {
    const { token } = await createSession({
      platformRef: s.platformRef,
      contextRef: s.contextRef,
      userRef: "00000000-0000-4000-8000-000000000002",
      role: "learner",
      lmsOrigins: [],
    });
    setDbForTests(downDb);
    try {
      const answer = await submitQuizAction({ error: null, missing: [] }, formOf({ s: token, link: s.resourceLinkRef, q1: "b", q2: "a" }));
      expect(answer.error).toMatch(/not saved/);
      expect(answer.error).toMatch(/submit/i);
      expect(answer.error).not.toMatch(/lost|exploded|hunter2/);
      expect(answer.answers).toEqual({ q1: "b", q2: "a" });
    } finally {
      setDbForTests(t.handle);
    }
  });
});

describe("admin sign-in under guessing", () => {
  const attempt = (token: string) => signInAction({ error: null }, formOf({ token }));

  it("checks at most two of 20 parallel wrong guesses (a first typo is free), and says when to try again", async () => {
    requestHeaders.value = new Headers({ host: "localhost:3000", "x-forwarded-for": "203.0.113.7" });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(`wrong-guess-${i}-0000000`)));
    const checked = answers.filter((a) => a.error === "That token is not right.");
    expect(checked.length).toBeLessThanOrEqual(2);
    for (const a of answers.filter((x) => x.error !== "That token is not right.")) expect(a.error).toMatch(/^Too many failed sign-ins\. Try again in \d+ s\.$/);
  });

  it("also bounds guesses spread over many claimed addresses (off Vercel an address is only a hint)", async () => {
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => {
        requestHeaders.value = new Headers({ host: "localhost:3000", "x-forwarded-for": `198.51.100.${i}` });
        return attempt(`wrong-guess-${i}-0000000`);
      }),
    );
    // The first ten failures in total are free; from then on each one holds every address back.
    expect(answers.filter((a) => a.error === "That token is not right.").length).toBeLessThanOrEqual(11);
    expect(answers.filter((a) => /Try again in \d+ s/.test(a.error ?? "")).length).toBeGreaterThanOrEqual(19);
  });

  it("lets the operator who mistyped once sign in right away", async () => {
    requestHeaders.value = new Headers({ host: "localhost:3000", "x-forwarded-for": "192.0.2.1" });
    expect((await attempt("a-typo-in-the-token-000")).error).toBe("That token is not right.");
    await expect(attempt(TEST_KEYS.admin)).rejects.toThrow("redirect /admin");
  });
});
