/**
 * The pages' server actions as Next calls them, with next/headers and next/navigation stood in:
 * who an action lets through (the form's token only, never the ambient cookie) and the backfill
 * form's confirmation, which holds only for the selection its dry run showed.
 */
import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { actionAccess } from "@/app/_lib/action-session";
import { requireSession } from "@/app/_lib/page-session";
import { backfillAction, type BackfillState } from "@/app/admin/actions";
import { selectorKey } from "@/app/admin/selector-key";
import type { Db } from "@/lib/db/client";
import { inngest } from "@/lib/inngest/client";
import { requestRetryFailed, requestSync } from "@/lib/jobs/requests";
import { recordScores } from "@/lib/grades/record";
import { setEnvForTests } from "@/lib/env";
import { createSession, SESSION_COOKIE } from "@/lib/session/session";
import { ADMIN_COOKIE, adminCookieValue } from "@/lib/session/admin-access";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { TEST_KEYS, testEnv } from "../support/env";
import { scoresFor, seedTriple, useGradeEnv } from "../support/seed";

const jar = vi.hoisted(() => new Map<string, string>());
vi.mock("next/headers", () => ({
  cookies: async () => ({
    get: (name: string) => (jar.has(name) ? { name, value: jar.get(name) } : undefined),
    set: () => undefined,
    delete: () => undefined,
  }),
  headers: async () => new Headers({ host: "localhost:3000" }),
}));
vi.mock("next/cache", () => ({ revalidatePath: () => undefined, refresh: () => undefined }));
const sent: { name: string; id: string }[] = [];
vi.mock("next/navigation", () => {
  const thrower = (what: string) => () => {
    throw new Error(what);
  };
  return { unauthorized: thrower("401"), forbidden: thrower("403"), notFound: thrower("404"), redirect: (to: string) => thrower(`redirect ${to}`)() };
});

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
useGradeEnv(emu);

beforeEach(async () => {
  jar.clear();
  await truncateAll(t.db);
  // Jobs on Inngest: what would be sent is kept here.
  vi.spyOn(inngest, "send").mockImplementation((async (e: { name: string; id: string }) => {
    sent.push({ name: e.name, id: e.id });
    return { ids: [e.id] };
  }) as never);
});

const one = async <T>(db: Db, q: ReturnType<typeof sql>) => ((await db.execute(q)) as unknown as { rows: T[] }).rows[0];

function form(fields: Record<string, string>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  return f;
}

describe("who a server action lets through", () => {
  it("takes the session from the form's token, never from the SameSite=None cookie alone", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "c1", resourceLinkId: "rl1", learners: 1 });
    const u = await one<{ id: string }>(t.db, sql`INSERT INTO users (platform_ref, user_id, name) VALUES (${s.platformRef}::uuid, 'teacher-1', 'Ada') RETURNING id`);
    await t.db.execute(sql`INSERT INTO memberships (context_ref, user_ref, kind) VALUES (${s.contextRef}::uuid, ${u.id}::uuid, 'teacher')`);
    const { token } = await createSession({ platformRef: s.platformRef, contextRef: s.contextRef, userRef: u.id, role: "teacher", lmsOrigins: [] });
    jar.set(SESSION_COOKIE, token);

    // A post carrying the cookie but not the token: what a page of another origin inside the LMS could send.
    expect(await actionAccess(form({ link: s.resourceLinkRef }), "teacher")).toEqual({ ok: false, error: "no_session" });
    expect(await actionAccess(form({ s: "", link: s.resourceLinkRef }), "teacher")).toEqual({ ok: false, error: "no_session" });
    expect(await actionAccess(form({ s: token, link: s.resourceLinkRef }), "teacher")).toMatchObject({ ok: true, session: { role: "teacher" } });

    // A page, by contrast, opens from the partitioned cookie, also when the link has an empty `?s=`.
    await expect(requireSession(Promise.resolve({ s: "" }))).resolves.toMatchObject({ token, session: { contextRef: s.contextRef } });
    jar.clear();
    await expect(requireSession(Promise.resolve({ s: "" }))).rejects.toThrow("401");
  });
});

describe("the backfill form", () => {
  const initial: BackfillState = { step: "edit", error: null, selector: { platformId: "", contextId: "", resourceLinkId: "", since: "" } };
  // Backfills that ran (a dry run is a run too, marked as one: it sends nothing).
  const backfillRuns = async () => (await one<{ n: number }>(t.db, sql`SELECT count(*)::int AS n FROM sync_runs WHERE kind = 'backfill' AND NOT counts ? 'dryRun'`)).n;

  it("runs only the selection its dry run showed: fields changed after it get a new dry run, not a run", async () => {
    jar.set(ADMIN_COOKIE, adminCookieValue(TEST_KEYS.admin).value);
    const a = await seedTriple(t.db, emu.emulator, { contextId: "c1", resourceLinkId: "rl1", withLineItem: true, learners: 2 });
    const b = await seedTriple(t.db, emu.emulator, { contextId: "c2", resourceLinkId: "rl2", withLineItem: true, learners: 3 });
    await recordScores([...scoresFor(a, 2), ...scoresFor(b, 3)], { source: "webhook" });
    await requestSync(a.contextRef);
    await requestSync(b.contextRef);

    const link = { platformId: a.platformId, contextId: "", resourceLinkId: "rl1", since: "" };
    const preview = await backfillAction(initial, form({ ...link, intent: "preview" }));
    expect(preview).toMatchObject({ step: "preview", error: null, wouldSend: 2 });

    // The operator clears the link id after that dry run, ticks the box and presses Run.
    const widened = { ...link, resourceLinkId: "" };
    const refused = await backfillAction(preview, form({ ...widened, intent: "run", confirm: "yes", previewed: selectorKey(preview.selector) }));
    expect(refused).toMatchObject({ step: "preview", wouldSend: 5, selector: widened });
    expect(refused.error).toContain("changed after the dry run");
    expect(await backfillRuns()).toBe(0);
    // Without the dry run's marker at all (a hand-made post), nothing runs either.
    expect(await backfillAction(preview, form({ ...link, intent: "run", confirm: "yes" }))).toMatchObject({ step: "preview" });
    expect(await backfillRuns()).toBe(0);

    const done = await backfillAction(refused, form({ ...widened, intent: "run", confirm: "yes", previewed: selectorKey(refused.selector) }));
    expect(done).toMatchObject({ step: "done", error: null });
    expect(done.message).toContain("5 re-sent");
    expect(await backfillRuns()).toBe(1);
  });

  it("answers a date the job cannot take with words, not a crash", async () => {
    jar.set(ADMIN_COOKIE, adminCookieValue(TEST_KEYS.admin).value);
    for (const [since, words] of [
      ["not a date", "must be a date"],
      // Dates JavaScript reads but the database cannot store (year 0) or the contract refuses.
      ["99999-01-01", "must lie between 2000-01-01"],
      ["0000-01-01", "must lie between 2000-01-01"],
      ["1999-12-31", "must lie between 2000-01-01"],
    ]) {
      const answer = await backfillAction(initial, form({ platformId: "p", since, intent: "preview" }));
      expect(answer).toMatchObject({ step: "edit", selector: { platformId: "p", since } });
      expect(answer.error).toContain(words);
    }
  });
});

describe("the teacher's Retry failed, inline", () => {
  it("pushes the re-queued rows even when a push of the course started before they were re-queued", async () => {
    const b = await seedTriple(t.db, emu.emulator, { contextId: "c1", resourceLinkId: "rl-b", withLineItem: true, learners: 5 });
    const a = await seedTriple(t.db, emu.emulator, { contextId: "c1", resourceLinkId: "rl-a", withLineItem: true, learners: 5 });
    await recordScores(scoresFor(b, 2), { source: "webhook" });
    await t.db.execute(sql`UPDATE grade_rows SET state = 'failed', failed_at = now(), pending_since = NULL, reason = 'max_attempts: retry_later: HTTP 503'
      WHERE resource_link_ref = ${b.resourceLinkRef}::uuid`);
    await recordScores(scoresFor(a, 5), { source: "webhook" });
    emu.emulator.faults.latencyMs = 100;
    // A push of the course is under way (it prepared its links while rl-b had nothing pending)…
    const first = requestSync(a.contextRef);
    await vi.waitFor(() => expect(emu.emulator.scores(a.lineItemId!).length).toBeGreaterThan(0), { timeout: 10_000, interval: 10 });
    // …when a teacher presses Retry failed: that push passes rl-b by; the retry's own push, queued behind it, sends it.
    const retry = await requestRetryFailed(a.contextRef);
    await first;
    expect(retry).toMatchObject({ status: "done", reset: 2 });
    expect(emu.emulator.scores(b.lineItemId!)).toHaveLength(2);
    const left = await one<{ n: number }>(t.db, sql`SELECT count(*)::int AS n FROM grade_rows WHERE resource_link_ref = ${b.resourceLinkRef}::uuid AND state <> 'sent'`);
    expect(left.n).toBe(0);
  });
});

describe("the teacher's buttons with Inngest", () => {
  it("give Sync now and Retry failed different event ids, so a retry right after a sync is not dropped", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "c1", resourceLinkId: "rl1", withLineItem: true, learners: 2 });
    await recordScores(scoresFor(s, 2), { source: "webhook" });
    await t.db.execute(sql`UPDATE grade_rows SET state = 'failed', failed_at = now(), pending_since = NULL, reason = 'max_attempts: retry_later: HTTP 503'
      WHERE resource_link_ref = ${s.resourceLinkRef}::uuid`);
    setEnvForTests(testEnv({ LTIAAS_URL: emu.url, JOBS_MODE: "inngest" }));
    try {
      sent.length = 0;
      const sync = await requestSync(s.contextRef);
      const retry = await requestRetryFailed(s.contextRef);
      expect(sync.status).toBe("queued");
      expect(retry).toMatchObject({ status: "queued", reset: 2 });
      expect(sent).toHaveLength(2);
      // Inngest drops an event whose id it has seen in the last 24 h.
      expect(new Set(sent.map((e) => e.id)).size).toBe(2);
    } finally {
      setEnvForTests(testEnv({ LTIAAS_URL: emu.url }));
    }
  });
});
