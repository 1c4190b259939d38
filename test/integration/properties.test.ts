/**
 * Property-based tests (fast-check) over everything a client or an LMS sends: the webhook body and
 * headers, the backfill body, /api/status's query and cursor, the admin search and backfill form,
 * server action payloads, and the idtoken fields a launch stores. Arbitrary Unicode (lone
 * surrogates, NUL, astral), extreme numbers and dates, long strings, deep nesting. The property,
 * everywhere: the answer is never a 5xx, and nothing is recorded unless the answer says so.
 * A fixed seed and a bounded number of cases keep `npm test` repeatable and quick; a failure prints
 * the seed (test/support/properties.ts).
 */
import fc from "fast-check";
import { sql } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { submitQuizAction } from "@/app/activity/[id]/actions";
import { backfillAction, signInAction, type BackfillState } from "@/app/admin/actions";
import { platformCeilingAction, platformPauseAction } from "@/app/admin/operator-actions";
import { retryFailedAction, syncNowAction } from "@/app/contexts/[id]/actions";
import { POST as cronPost } from "@/app/api/cron/[job]/route";
import { GET as statusGet } from "@/app/api/status/route";
import { POST as webhookPost } from "@/app/api/webhooks/grades/route";
import { GET as launchGet } from "@/app/launch/route";
import { dispatcher } from "@/lib/jobs/dispatch";
import { signatureHeader } from "@/lib/grades/signature";
import { ACTIVITY_PROGRESS, GRADING_PROGRESS } from "@/lib/ltiaas";
import { createSession } from "@/lib/session/session";
import { resetSignInThrottleForTests } from "@/lib/sign-in-throttle";
import { ADMIN_COOKIE, adminCookieValue } from "@/lib/session/admin-access";
import { searchQuerySchema, searchScores } from "@/lib/views/admin";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { TEST_KEYS } from "../support/env";
import { propertyOptions } from "../support/properties";
import { seedTriple, useGradeEnv, type Seeded } from "../support/seed";

vi.mock("next/headers", () => ({
  cookies: async () => ({
    get: (name: string) => (name === ADMIN_COOKIE ? { name, value: adminCookieValue(TEST_KEYS.admin).value } : undefined),
    set: () => undefined,
    delete: () => undefined,
  }),
  headers: async () => new Headers({ host: "localhost:3000", "x-forwarded-for": "203.0.113.9" }),
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
beforeAll(async () => {
  await truncateAll(t.db);
  s = await seedTriple(t.db, emu.emulator, { contextId: "pc1", resourceLinkId: "prl1", withLineItem: true, learners: 5 });
});
// Recorded scores ask the process's dispatcher for a push soon: none is left to fire between properties.
afterEach(() => dispatcher().cancelWaiting());

const count = async (table: string) =>
  Number(((await t.db.execute(sql.raw(`SELECT count(*)::int AS n FROM ${table}`))) as unknown as { rows: { n: number }[] }).rows[0].n);
/** The grade data a request may record: the ledger, its audit and the delivery ids. */
const recorded = async () => ({ rows: await count("grade_rows"), revisions: await count("grade_revisions"), deliveries: await count("webhook_deliveries") });

// ---------- what hostile input is made of ----------

/** What Postgres refuses: NUL anywhere, a lone surrogate in jsonb. Drawn often, so bounded runs meet them. */
const danger = fc.constantFrom("\u0000", "\ud800", "\udc00", "\ud83d", "\udfff");
const otherNasty = fc.constantFrom(
  "\u{1F600}", "\u4e00", "%00", "%ZZ", "'", '"', "\\", ";", "\r\n", "\u202e", "\ufeff", " ", "", "null", "[]", "{}", "<script>", "${x}",
);
const piece = fc.oneof(
  { weight: 2, arbitrary: danger },
  { weight: 2, arbitrary: otherNasty },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 16 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme-ascii", maxLength: 12 }) },
);
/** Arbitrary text: any code point, lone surrogates and NUL included, often very long (past 255 characters and the index's 2.7 kB). */
const hostileString = fc.oneof(
  { weight: 5, arbitrary: fc.array(piece, { minLength: 1, maxLength: 6 }).map((a) => a.join("")) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom("x", "\u4e00", "\u{1F600}", "\ud800"), fc.integer({ min: 200, max: 3_000 })).map(([c, n]) => c.repeat(n)) },
);
const hostileNumber = fc.oneof(
  fc.double(), // NaN and ±Infinity become null in JSON
  fc.integer(),
  fc.constantFrom(0, -0, -1, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER + 2),
);
const YEAR_0 = { min: new Date("0000-01-01T00:00:00Z"), max: new Date("0000-12-31T23:59:59Z") };
const pad = (n: number, w = 2) => String(n).padStart(w, "0");
/** Dates: year 0 (timestamptz refuses it), far past and future, the window's edges, impossible fields, any JavaScript date. */
const hostileDate = fc.oneof(
  fc.date({ ...YEAR_0, noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer({ min: -10 * 60_000, max: 10 * 60_000 }).map((ms) => new Date(Date.now() + ms).toISOString()),
  fc
    .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 19 }), fc.integer({ min: 0, max: 39 }), fc.integer({ min: 0, max: 29 }), fc.integer({ min: 0, max: 69 }))
    .map(([y, mo, d, h, mi]) => `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:00Z`),
  fc.constantFrom("9999-12-31T23:59:59Z", "1999-12-31T23:59:59Z", "2000-01-01T00:00:00Z", "2024-02-29T00:00:00+14:59"),
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()),
  hostileString,
);
/** Deep nesting, where a string or number was expected. */
const deep = fc.integer({ min: 1, max: 2_000 }).map((n) => {
  let v: unknown = "x";
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { a: v };
  return v;
});
const either = <T, U>(known: T | fc.Arbitrary<T>, hostile: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 1, arbitrary: known instanceof fc.Arbitrary ? known : fc.constant(known) }, { weight: 1, arbitrary: hostile });
const recent = fc.integer({ min: 0, max: 365 * 86_400_000 }).map((ms) => new Date(Date.now() - ms).toISOString());

/** A valid score entry for the seeded triple, with up to two fields made hostile: so the rest passes and the hostile one reaches as far as it can. */
function entryArb() {
  const valid = fc.record(
    {
      platformId: fc.constant(s.platformId),
      contextId: fc.constant(s.contextId),
      resourceLinkId: fc.constant(s.resourceLinkId),
      userId: fc.constantFrom("learner-1", "learner-2", "learner-3"),
      scoreGiven: fc.integer({ min: 0, max: 10 }),
      scoreMaximum: fc.constant(10),
      comment: fc.string({ maxLength: 20 }),
      activityProgress: fc.constantFrom(...ACTIVITY_PROGRESS),
      gradingProgress: fc.constantFrom(...GRADING_PROGRESS),
      gradedAt: recent,
    },
    { requiredKeys: ["platformId", "contextId", "resourceLinkId", "userId"] },
  );
  const mutation = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom("platformId", "contextId", "resourceLinkId", "userId", "comment", "activityProgress", "gradingProgress"), hostileString) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom("scoreGiven", "scoreMaximum"), hostileNumber) },
    { weight: 3, arbitrary: fc.tuple(fc.constant("gradedAt"), hostileDate) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom("comment", "userId", "gradedAt", "extra"), fc.oneof(deep, fc.anything())) },
  );
  return fc.tuple(valid, fc.array(mutation, { maxLength: 2 })).map(([e, changes]) => ({ ...e, ...Object.fromEntries(changes) }));
}

const expectNo5xx = (status: number) => expect(status, `answered ${status}`).toBeLessThan(500);

// ---------- the properties ----------

describe("property: nothing a client sends answers 5xx, and nothing is recorded unless the answer says so", () => {
  it("POST /api/webhooks/grades: body and signature header", async () => {
    const body = fc.oneof(
      { weight: 6, arbitrary: fc.record({ id: fc.oneof({ weight: 4, arbitrary: fc.uuid() }, { weight: 1, arbitrary: hostileString }), scores: fc.array(entryArb(), { minLength: 1, maxLength: 3 }) }) },
      { weight: 1, arbitrary: fc.anything() },
      { weight: 1, arbitrary: deep },
    );
    const raw = fc.oneof({ weight: 8, arbitrary: body.map((b) => JSON.stringify(b) ?? "null") }, { weight: 1, arbitrary: hostileString }, {
      weight: 1,
      arbitrary: fc.integer({ min: 1, max: 200_000 }).map((n) => "[".repeat(n) + "]".repeat(n)),
    });
    const header = (rawBody: string) =>
      fc.oneof(
        { weight: 6, arbitrary: fc.constant(signatureHeader(TEST_KEYS.webhook, rawBody)) },
        { weight: 1, arbitrary: fc.integer({ min: -1e10, max: 1e10 }).map((dt) => signatureHeader(TEST_KEYS.webhook, rawBody, Math.floor(Date.now() / 1000) + dt)) },
        { weight: 1, arbitrary: hostileString.map((h) => h.replace(/[^\t\x20-\x7e\x80-\xff]/g, "")) },
      );
    await fc.assert(
      fc.asyncProperty(raw.chain((r) => fc.tuple(fc.constant(r), header(r))), async ([rawBody, sig]) => {
        const before = await recorded();
        const res = await webhookPost(
          new Request("http://localhost/api/webhooks/grades", { method: "POST", headers: { "content-type": "application/json", "x-grader-signature": sig }, body: rawBody }),
        );
        expectNo5xx(res.status);
        const after = await recorded();
        if (res.status === 202) expect(after.deliveries).toBe(before.deliveries + 1);
        else expect(after).toEqual(before);
      }),
      propertyOptions("webhook", 120),
    );
  });

  it("POST /api/cron/backfill: selectors and corrections", async () => {
    const selector = fc.record(
      {
        platformId: either(s.platformId, hostileString),
        contextId: either(s.contextId, hostileString),
        resourceLinkId: either(s.resourceLinkId, hostileString),
        since: hostileDate,
        dryRun: either(true, fc.anything()),
      },
      { requiredKeys: ["platformId"] },
    );
    const corrections = fc.record({ scores: fc.array(entryArb(), { maxLength: 3 }), dryRun: either(fc.boolean(), fc.anything()) }, { requiredKeys: ["scores"] });
    const body = fc.oneof({ weight: 3, arbitrary: selector }, { weight: 3, arbitrary: corrections }, { weight: 1, arbitrary: fc.anything() });
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const before = await recorded();
        const res = await cronPost(
          new Request("http://localhost/api/cron/backfill", {
            method: "POST",
            headers: { authorization: `Bearer ${TEST_KEYS.cron}`, "content-type": "application/json" },
            body: JSON.stringify(b) ?? "null",
          }),
          { params: Promise.resolve({ job: "backfill" }) },
        );
        expectNo5xx(res.status);
        if (res.status !== 200) expect(await recorded()).toEqual(before);
      }),
      propertyOptions("backfill", 60),
    );
  });

  it("GET /api/status: query and cursor", async () => {
    // Shaped as Postgres writes a timestamptz, with any field values: what passes a shape check and then breaks the cast.
    const timestampish = fc
      .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: -99, max: 99 }))
      .map(([y, mo, d, h, mi, sec, off]) => `${pad(y, 4)}-${pad(mo)}-${pad(d)} ${pad(h)}:${pad(mi)}:${pad(sec)}${off < 0 ? "-" : "+"}${pad(Math.abs(off))}`);
    const cursor = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.tuple(fc.integer({ min: 0, max: 3 }), timestampish, fc.integer({ min: -50, max: 0 }), fc.uuid({ version: 4 })).map((c) => Buffer.from(JSON.stringify(c)).toString("base64url")),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(either(fc.integer({ min: 0, max: 3 }), hostileNumber), either(timestampish, hostileString), either(fc.integer({ min: -50, max: 0 }), hostileNumber), either(fc.uuid(), hostileString))
          .map((c) => Buffer.from(JSON.stringify(c)).toString("base64url")),
      },
      { weight: 1, arbitrary: fc.anything().map((v) => Buffer.from(JSON.stringify(v) ?? "").toString("base64url")) },
      { weight: 1, arbitrary: hostileString },
    );
    const param = fc.oneof(
      { weight: 3, arbitrary: fc.tuple(fc.constant("cursor"), cursor) },
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom("platformId", "contextId"), either(s.platformId, hostileString)) },
      { weight: 1, arbitrary: fc.tuple(fc.constant("state"), either(fc.constantFrom("needs_relaunch", "failing", "pending", "ok"), hostileString)) },
      { weight: 1, arbitrary: fc.tuple(fc.constant("limit"), either(fc.integer({ min: 1, max: 1000 }).map(String), fc.oneof(hostileString, hostileNumber.map(String)))) },
      { weight: 1, arbitrary: fc.tuple(hostileString, hostileString) },
    );
    const rawTail = fc.constantFrom("", "&%ZZ", "&cursor=%00", "&limit=%ff", "&%00=%00");
    await fc.assert(
      fc.asyncProperty(fc.array(param, { maxLength: 3 }), rawTail, async (params, tail) => {
        const res = await statusGet(
          new Request(`http://localhost/api/status?${new URLSearchParams(params).toString()}${tail}`, { headers: { authorization: `Bearer ${TEST_KEYS.admin}` } }),
        );
        expect([200, 400], `answered ${res.status}`).toContain(res.status);
      }),
      propertyOptions("status", 150),
    );
  });

  it("the admin dashboard's search: a query the form lets through never fails in the database", async () => {
    await fc.assert(
      fc.asyncProperty(either(fc.constantFrom("learner-1", "d-1"), hostileString), async (q) => {
        const parsed = searchQuerySchema.safeParse(q);
        if (parsed.success) await expect(searchScores(t.db, parsed.data)).resolves.toBeDefined();
      }),
      propertyOptions("admin search", 150),
    );
  });

  it("the admin backfill form: any fields, answered with words, recording nothing before a confirmed run", async () => {
    const initial: BackfillState = { step: "edit", error: null, selector: { platformId: "", contextId: "", resourceLinkId: "", since: "" } };
    const fields = fc.record({
      platformId: either(s.platformId, hostileString),
      contextId: either(s.contextId, hostileString),
      resourceLinkId: hostileString,
      since: hostileDate,
      intent: either("preview", hostileString),
    });
    await fc.assert(
      fc.asyncProperty(fields, async (f) => {
        const before = await recorded();
        const form = new FormData();
        for (const [k, v] of Object.entries(f)) form.set(k, v);
        const answer = await backfillAction(initial, form);
        expect(["edit", "preview"]).toContain(answer.step);
        expect(await recorded()).toEqual(before);
      }),
      propertyOptions("admin backfill form", 100),
    );
  });

  it("server actions: any payload Next can decode, for the quiz, Sync now, Retry failed, sign-in, backfill and the platform controls", async () => {
    resetSignInThrottleForTests();
    const { token } = await createSession({ platformRef: s.platformRef, contextRef: s.contextRef, userRef: "00000000-0000-4000-8000-00000000000a", role: "learner", lmsOrigins: [] });
    const formData = fc
      .dictionary(
        fc.oneof(fc.constantFrom("s", "link", "q1", "q2", "q3", "token", "intent", "platformId", "since", "confirm", "previewed", "overwrite", "concurrency"), hostileString),
        fc.oneof(hostileString, fc.constantFrom(token, s.resourceLinkRef, "a", "b", "run", "yes", "pause", "default", "3")),
        { maxKeys: 8 },
      )
      .map((d) => {
        const f = new FormData();
        for (const [k, v] of Object.entries(d)) f.set(k, v);
        return f as unknown;
      });
    const payload = fc.oneof({ weight: 2, arbitrary: formData }, { weight: 1, arbitrary: fc.anything() }, { weight: 1, arbitrary: deep });
    const actions = [submitQuizAction, syncNowAction, retryFailedAction, signInAction, backfillAction, platformPauseAction, platformCeilingAction] as unknown as ((prev: unknown, form: unknown) => Promise<unknown>)[];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...actions.keys()), fc.anything(), payload, async (which, prev, form) => {
        const before = await recorded();
        let redirected = false;
        try {
          const answer = await actions[which](prev, form);
          expect(answer).toBeTypeOf("object");
        } catch (error) {
          // The only way out besides an answer: the redirect after a saved quiz.
          expect(String(error)).toMatch(/redirect \/activity\//);
          redirected = true;
        }
        if (!redirected) expect(await recorded()).toEqual(before);
      }),
      propertyOptions("server actions", 150),
    );
  });

  it("GET /launch: the idtoken fields a launch stores", async () => {
    const platformsAndUsers = async () => (await count("platforms")) + (await count("users"));
    const launchInput = fc.record({
      platformId: either(fc.constantFrom("lp-1", "lp-2"), hostileString),
      platformUrl: either(fc.constantFrom("https://lms.example.com", "https://a.example;script-src", "https://*"), hostileString),
      contextId: either(fc.constantFrom("lc-1", "lc-2"), hostileString),
      contextTitle: hostileString,
      resourceLinkId: either(fc.constantFrom("lr-1"), hostileString),
      resourceLinkTitle: hostileString,
      user: fc.record({ id: either(fc.constantFrom("lu-1", "lu-2"), hostileString), name: hostileString, email: hostileString, givenName: hostileString }),
      instructor: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(launchInput, async ({ instructor, ...input }) => {
        const before = await platformsAndUsers();
        const { ltik } = emu.emulator.createLaunch({ ...input, roles: [instructor ? "Instructor" : "Learner"] });
        const res = await launchGet(new Request(`http://localhost/launch?ltik=${encodeURIComponent(ltik)}`));
        expect([303, 400, 401, 403, 502], `answered ${res.status}`).toContain(res.status);
        if (res.status !== 303) expect(await platformsAndUsers()).toBe(before);
        else {
          // Stored under the very id the LMS sent, never an altered one.
          const rows = ((await t.db.execute(sql`SELECT count(*)::int AS n FROM users WHERE user_id = ${input.user.id}`)) as unknown as { rows: { n: number }[] }).rows;
          expect(rows[0].n).toBeGreaterThanOrEqual(1);
        }
      }),
      propertyOptions("launch", 80),
    );
  });
});
