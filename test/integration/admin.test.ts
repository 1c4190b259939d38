/**
 * /admin's read models and actions against the emulator: the links with grades set by hand or drift
 * (counts and filter), the platforms table (window, ceiling, throttled answers in the last hour,
 * pause), search by name or e-mail, a link's latest attempts, and the operator's actions as Next
 * calls them — pause/resume a platform, its ceiling, reconcile now, the backfill dry run with
 * `overridden`/`overwrite` and its words for a selector that names nothing — each answering in words.
 */
import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { backfillAction, type BackfillState } from "@/app/admin/actions";
import { platformCeilingAction, platformPauseAction, reconcileAction, type OperatorState } from "@/app/admin/operator-actions";
import { selectorKey } from "@/app/admin/selector-key";
import type { Db } from "@/lib/db/client";
import { unknownSelectorPart } from "@/lib/grades/backfill";
import { recordScores } from "@/lib/grades/record";
import { requestSync } from "@/lib/jobs/requests";
import { ADMIN_COOKIE, adminCookieValue } from "@/lib/session/admin-access";
import { adminList, recentRuns, searchScores } from "@/lib/views/admin";
import { linkAttempts } from "@/lib/views/link-detail";
import { platformRows } from "@/lib/views/platforms";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { TEST_KEYS } from "../support/env";
import { scoresFor, seedTriple, useGradeEnv, type Seeded } from "../support/seed";

const jar = vi.hoisted(() => new Map<string, string>());
vi.mock("next/headers", () => ({
  cookies: async () => ({ get: (name: string) => (jar.has(name) ? { name, value: jar.get(name) } : undefined), set: () => undefined, delete: () => undefined }),
  headers: async () => new Headers({ host: "localhost:3000" }),
}));
const revalidated = vi.hoisted(() => [] as string[]);
vi.mock("next/cache", () => ({ revalidatePath: (p: string) => void revalidated.push(p), refresh: () => undefined }));
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
  jar.set(ADMIN_COOKIE, adminCookieValue(TEST_KEYS.admin).value);
  revalidated.length = 0;
  await truncateAll(t.db);
});

const one = async <T>(db: Db, q: ReturnType<typeof sql>) => ((await db.execute(q)) as unknown as { rows: T[] }).rows[0];

function form(fields: Record<string, string>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  return f;
}

/** A seeded link with `n` scores sent to the emulator's gradebook. */
async function sentLink(input: { platformId?: string; contextId: string; resourceLinkId: string }, n: number): Promise<Seeded> {
  const s = await seedTriple(t.db, emu.emulator, { ...input, withLineItem: true, learners: n });
  await recordScores(scoresFor(s, n, (i) => i + 1), { source: "webhook" });
  expect(await requestSync(s.contextRef)).toMatchObject({ status: "done", summary: { counts: { sent: n } } });
  return s;
}

const none: OperatorState = { ok: null, message: null };

describe("links with grades set by hand or drift", () => {
  it("are counted per link and found by the filter; reconcile now (the action) finds them and says so", async () => {
    const a = await sentLink({ contextId: "c1", resourceLinkId: "rl-a" }, 3);
    const b = await sentLink({ contextId: "c2", resourceLinkId: "rl-b" }, 2);
    expect(await adminList(t.db, { changed: true })).toMatchObject({ total: 0, changed: 0, entries: [] });

    // A teacher changes learner-2's grade by hand in rl-a's column.
    emu.emulator.setHandGrade(a.lineItemId!, "learner-2", 9);
    const answer = await reconcileAction(none, form({}));
    expect(answer.ok).toBe(true);
    expect(answer.message).toContain("Reconcile completed: 5 grades read back — 4 in sync, 1 changed by hand, 0 missing");
    expect(revalidated).toContain("/admin");
    expect((await recentRuns(t.db, 5)).map((r) => [r.kind, r.trigger])).toContainEqual(["reconcile", "manual"]);

    const changed = await adminList(t.db, { changed: true });
    expect(changed).toMatchObject({ total: 1, changed: 1 });
    expect(changed.entries.map((e) => e.resourceLinkId)).toEqual(["rl-a"]);
    expect(changed.entries[0]).toMatchObject({ counts: { overridden: 1 }, drift: { inSync: 2, differs: 1, missing: 0 } });
    // Without the filter both are listed; the filter also narrows within a state.
    expect((await adminList(t.db)).entries.map((e) => e.resourceLinkId).sort()).toEqual(["rl-a", "rl-b"]);
    expect((await adminList(t.db, { changed: true, state: "ok" })).entries.map((e) => e.resourceLinkId)).toEqual(["rl-a"]);
    expect((await adminList(t.db, { changed: true, state: "pending" })).entries).toEqual([]);

    // Drift alone (a score the LMS lost, seen by a reconcile) also counts.
    await t.db.execute(sql`UPDATE resource_links SET drift_missing = 1 WHERE id = ${b.resourceLinkRef}::uuid`);
    expect((await adminList(t.db, { changed: true })).changed).toBe(2);

    // With the platform paused nothing is read, and the answer says so rather than "0 read, all fine".
    await platformPauseAction(none, form({ platformId: a.platformId, intent: "pause" }));
    const paused = await reconcileAction(none, form({}));
    expect(paused.message).toContain("0 grades read back");
    expect(paused.message).toContain("2 links not read (paused, or no key or column).");
  });
});

describe("the platforms table", () => {
  it("shows each platform's ceiling (default or its own), window now, throttled answers in the last hour, and pause", async () => {
    const a = await seedTriple(t.db, emu.emulator, { platformId: "plat-a", contextId: "c1", resourceLinkId: "r1", learners: 1 });
    await seedTriple(t.db, emu.emulator, { platformId: "plat-b", contextId: "c1", resourceLinkId: "r1", learners: 1 });
    const now = new Date("2026-12-01T12:00:00Z");
    await t.db.execute(sql`UPDATE platforms SET concurrency_ceiling = 8, pacing_window = 3, pacing_updated_at = ${now.toISOString()}::timestamptz WHERE platform_id = 'plat-a'`);
    await t.db.execute(sql`INSERT INTO platform_throttles (platform_ref, minute, answers) VALUES
      (${a.platformRef}::uuid, '2026-12-01T11:30:00Z', 4), (${a.platformRef}::uuid, '2026-12-01T11:59:00Z', 2), (${a.platformRef}::uuid, '2026-12-01T10:30:00Z', 50)`);

    const { rows, total } = await platformRows(t.db, { defaultCeiling: 2, now });
    expect(total).toBe(2);
    const byId = Object.fromEntries(rows.map((r) => [r.platformId, r]));
    expect(byId["plat-a"]).toMatchObject({ ceiling: 8, ownCeiling: true, window: 3, throttledLastHour: 6, pausedAt: null, links: 1 });
    expect(byId["plat-b"]).toMatchObject({ ceiling: 2, ownCeiling: false, window: 2, throttledLastHour: 0, pausedAt: null });
  });

  it("pauses and resumes a platform from the page, answering in words; resume pushes what waited", async () => {
    const s = await seedTriple(t.db, emu.emulator, { platformId: "plat-p", contextId: "c1", resourceLinkId: "r1", withLineItem: true, learners: 2 });
    const paused = await platformPauseAction(none, form({ platformId: "plat-p", intent: "pause" }));
    expect(paused).toEqual({ ok: true, message: "Paused plat-p: nothing is sent to it; scores are still recorded." });
    expect(revalidated).toContain("/admin");
    expect((await platformRows(t.db, { defaultCeiling: 2 })).rows[0]!.pausedAt).not.toBeNull();
    expect((await adminList(t.db)).entries[0]).toMatchObject({ paused: true, platform: { paused: true } });
    expect((await platformPauseAction(none, form({ platformId: "plat-p", intent: "pause" }))).message).toBe("plat-p was already paused.");

    await recordScores(scoresFor(s, 2), { source: "webhook" });
    expect(emu.emulator.scores(s.lineItemId!)).toHaveLength(0);
    const resumed = await platformPauseAction(none, form({ platformId: "plat-p", intent: "resume" }));
    expect(resumed).toEqual({ ok: true, message: "Resumed plat-p: 1 course with waiting scores pushed." });
    expect(emu.emulator.scores(s.lineItemId!)).toHaveLength(2);

    // Bad input is answered in words, and nothing changes.
    expect(await platformPauseAction(none, form({ platformId: "nope", intent: "pause" }))).toEqual({ ok: false, message: "No platform “nope”." });
    expect(await platformPauseAction(none, form({ platformId: "plat-p", intent: "stop" }))).toMatchObject({ ok: false, message: expect.stringContaining("The button") });
    expect(await platformPauseAction(none, form({ platformId: "a\u0000b", intent: "pause" }))).toMatchObject({ ok: false, message: expect.stringContaining("NUL") });
    expect(await platformPauseAction(none, "not a form" as unknown as FormData)).toMatchObject({ ok: false, message: expect.stringContaining("could not be read") });
    jar.clear();
    expect(await platformPauseAction(none, form({ platformId: "plat-p", intent: "pause" }))).toMatchObject({ ok: false, message: expect.stringContaining("Sign in again") });
    expect((await platformRows(t.db, { defaultCeiling: 2 })).rows[0]!.pausedAt).toBeNull();
  });

  it("sets and clears a platform's ceiling (as `npm run job -- platform`), refusing what it cannot take", async () => {
    await seedTriple(t.db, emu.emulator, { platformId: "plat-c", contextId: "c1", resourceLinkId: "r1", learners: 1 });
    const ceiling = async () => (await one<{ c: number | null }>(t.db, sql`SELECT concurrency_ceiling AS c FROM platforms WHERE platform_id = 'plat-c'`)).c;
    expect(await platformCeilingAction(none, form({ platformId: "plat-c", concurrency: "4", intent: "set" }))).toEqual({
      ok: true,
      message: "plat-c: at most 4 requests in flight.",
    });
    expect(await ceiling()).toBe(4);
    for (const bad of ["0", "17", "2.5", "abc", "-1"]) {
      const answer = await platformCeilingAction(none, form({ platformId: "plat-c", concurrency: bad, intent: "set" }));
      expect(answer.ok).toBe(false);
      expect(answer.message).toMatch(/^The ceiling must be/);
    }
    expect((await platformCeilingAction(none, form({ platformId: "plat-c", concurrency: "", intent: "set" }))).message).toContain("Type a ceiling from 1 to 16");
    expect(await ceiling()).toBe(4);
    expect(await platformCeilingAction(none, form({ platformId: "plat-c", concurrency: "4", intent: "default" }))).toEqual({
      ok: true,
      message: "plat-c: ceiling back to PLATFORM_CONCURRENCY.",
    });
    expect(await ceiling()).toBeNull();
    expect(await platformCeilingAction(none, form({ platformId: "nope", concurrency: "3", intent: "set" }))).toEqual({ ok: false, message: "No platform “nope”." });
  });
});

describe("search by name or e-mail, and a link's latest attempts", () => {
  it("finds people by part of their name or e-mail (case-insensitive, % and _ taken literally), with their scores' stories", async () => {
    const s = await sentLink({ contextId: "c1", resourceLinkId: "rl1" }, 2);
    await t.db.execute(sql`INSERT INTO users (platform_ref, user_id, name, email) VALUES
      (${s.platformRef}::uuid, 'learner-1', 'Grace Hopper', 'grace@navy.example'),
      (${s.platformRef}::uuid, 'u-no-score', 'Grace_Less 100%', NULL)
      ON CONFLICT (platform_ref, user_id) DO UPDATE SET name = excluded.name, email = excluded.email`);

    const byName = await searchScores(t.db, "hopper");
    expect(byName.matched).toBe("person");
    expect(byName.people).toEqual([{ platformId: s.platformId, userId: "learner-1", name: "Grace Hopper", email: "grace@navy.example" }]);
    expect(byName.stories.map((x) => [x.row.userId, x.row.state])).toEqual([["learner-1", "sent"]]);
    expect((await searchScores(t.db, "GRACE@NAVY")).people.map((p) => p.userId)).toEqual(["learner-1"]);
    expect((await searchScores(t.db, "grace")).people.map((p) => p.userId)).toEqual(["learner-1", "u-no-score"]);
    // `%` and `_` match themselves only.
    expect((await searchScores(t.db, "100%")).people.map((p) => p.userId)).toEqual(["u-no-score"]);
    expect((await searchScores(t.db, "e_l")).people.map((p) => p.userId)).toEqual(["u-no-score"]);
    expect((await searchScores(t.db, "%")).people.map((p) => p.userId)).toEqual(["u-no-score"]);
    // Ids still come first; NUL is refused before the database sees it.
    expect((await searchScores(t.db, "learner-2")).matched).toBe("user");
    await expect(searchScores(t.db, "gr\u0000ace")).rejects.toThrow(/NUL/);
  });

  it("lists the link's latest requests with the LMS's answers, newest first", async () => {
    const s = await sentLink({ contextId: "c1", resourceLinkId: "rl1" }, 2);
    await recordScores(scoresFor(s, 1, () => 7), { source: "webhook" });
    await requestSync(s.contextRef);
    const attempts = await linkAttempts(t.db, s.resourceLinkRef);
    expect(attempts.map((a) => [a.userId, a.revision, a.outcome, a.httpStatus, a.runKind])).toEqual([
      ["learner-1", 2, "sent", 204, "push-grades"],
      ["learner-2", 1, "sent", 204, "push-grades"],
      ["learner-1", 1, "sent", 204, "push-grades"],
    ]);
    expect(await linkAttempts(t.db, s.resourceLinkRef, 1)).toHaveLength(1);
  });
});

describe("the backfill form", () => {
  const initial: BackfillState = { step: "edit", error: null, selector: { platformId: "", contextId: "", resourceLinkId: "", since: "" } };

  it("says which part of a selector names nothing, instead of '0 would be sent'", async () => {
    const s = await seedTriple(t.db, emu.emulator, { platformId: "plat-k", contextId: "c1", resourceLinkId: "r1", learners: 1 });
    expect(await unknownSelectorPart(t.db, { platformId: "plat-k" })).toBeNull();
    expect(await unknownSelectorPart(t.db, { platformId: "plat-k", contextId: "c1", resourceLinkId: "r1" })).toBeNull();
    expect(await unknownSelectorPart(t.db, { platformId: "plat-k", resourceLinkId: "r1" })).toBeNull();

    const ask = (f: Record<string, string>) => backfillAction(initial, form({ contextId: "", resourceLinkId: "", since: "", intent: "preview", ...f }));
    const platform = await ask({ platformId: "no-such-platform" });
    expect(platform.step).toBe("edit");
    expect(platform.wouldSend).toBeUndefined();
    expect(platform.error).toContain("No platform with the id “no-such-platform” has launched Gradesync");
    expect((await ask({ platformId: s.platformId, contextId: "c9" })).error).toContain("has no course with the context id “c9”");
    expect((await ask({ platformId: s.platformId, contextId: "c1", resourceLinkId: "r9" })).error).toContain("No link with the resource link id “r9”");
    expect((await ask({ platformId: s.platformId, resourceLinkId: "r9" })).error).toContain("No link with the resource link id “r9”");
    // Nothing ran for them: not even a dry run.
    expect(await recentRuns(t.db, 5)).toEqual([]);
    expect(await ask({ platformId: s.platformId })).toMatchObject({ step: "preview", error: null, wouldSend: 0, overridden: 0 });
  });

  it("counts what it would overwrite; without `overwrite` leaves hand-set grades alone, with it (confirmed) replaces them; dry runs are marked", async () => {
    const s = await sentLink({ platformId: "plat-o", contextId: "c1", resourceLinkId: "rl1" }, 3);
    // Set by hand after Gradesync's send, not yet seen by Gradesync: the dry run reads the LMS now.
    emu.emulator.setHandGrade(s.lineItemId!, "learner-3", 0.5);
    const fields = { platformId: "plat-o", contextId: "c1", resourceLinkId: "", since: "" };

    const plain = await backfillAction(initial, form({ ...fields, intent: "preview" }));
    expect(plain).toMatchObject({ step: "preview", error: null, wouldSend: 2, overridden: 1 });
    expect(plain.rows?.map((r) => r.userId)).toEqual(["learner-1", "learner-2"]);
    const runs = await recentRuns(t.db, 5);
    expect(runs[0]).toMatchObject({ kind: "backfill", trigger: "manual", counts: { dryRun: 1 } });

    const over = await backfillAction(plain, form({ ...fields, overwrite: "yes", intent: "preview" }));
    expect(over).toMatchObject({ step: "preview", wouldSend: 3, overridden: 1, selector: { overwrite: "yes" } });
    // A run whose overwrite box differs from its dry run's is a new dry run, not a run.
    const changed = await backfillAction(plain, form({ ...fields, overwrite: "yes", intent: "run", confirm: "yes", previewed: selectorKey(plain.selector) }));
    expect(changed.error).toContain("changed after the dry run");
    const unconfirmed = await backfillAction(over, form({ ...fields, overwrite: "yes", intent: "run", previewed: selectorKey(over.selector) }));
    expect(unconfirmed.error).toContain("replaces grades teachers set by hand");
    expect(emu.emulator.gradebook(s.lineItemId!).find((c) => c.userId === "learner-3")).toMatchObject({ setBy: "person" });

    const done = await backfillAction(over, form({ ...fields, overwrite: "yes", intent: "run", confirm: "yes", previewed: selectorKey(over.selector) }));
    expect(done).toMatchObject({ step: "done", error: null });
    expect(done.message).toContain("3 re-sent");
    expect(emu.emulator.gradebook(s.lineItemId!).find((c) => c.userId === "learner-3")).toMatchObject({ setBy: "tool", resultScore: 3 });
    const kinds = (await recentRuns(t.db, 10)).filter((r) => r.kind === "backfill").map((r) => Boolean(r.counts.dryRun));
    expect(kinds).toEqual([false, true, true, true, true]);
  });
});
