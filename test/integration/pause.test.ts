/**
 * Pause: a link (the teacher) or a platform (an operator). Nothing calls that LMS for it while
 * paused; scores are still recorded and wait; resuming pushes them at once.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { recordScores } from "@/lib/grades/record";
import { requestPause } from "@/lib/jobs/requests";
import { getHealth } from "@/lib/status/health";
import { HEALTH_KINDS } from "@/lib/jobs/table";
import { parseCliArgs, runCommand, printResult } from "@/lib/jobs/cli";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { counters, scoresFor, seedTriple, useGradeEnv } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
const g = useGradeEnv(emu);

beforeEach(async () => {
  await truncateAll(t.db);
});

const lmsCalls = () => emu.emulator.log.filter((l) => l.path.startsWith("/api/lineitems") || l.path.startsWith("/api/memberships"));

describe("pause and resume", () => {
  it("a paused link sends nothing (Sync now, the nightly push); its scores are recorded and wait; resume pushes them at once", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "pa1", resourceLinkId: "r", withLineItem: true });
    expect(await requestPause({ linkRef: s.resourceLinkRef }, true, g.jobs())).toMatchObject({ found: true, changed: true, pushed: 0 });
    await recordScores(scoresFor(s, 3), { source: "webhook" });
    emu.emulator.log.length = 0;
    const run = await g.run("push-grades");
    expect(run).toMatchObject({ outcome: "partial", counts: { sent: 0, paused: 3, pending: 3 } });
    expect(await g.push(s.contextRef)).toMatchObject({ counts: { sent: 0, paused: 3 } });
    expect(lmsCalls()).toHaveLength(0);
    expect(await counters(t.db, s.resourceLinkRef)).toMatchObject({ pending: 3 });

    // Paused rows count as pending, not in how long grades have waited.
    const health = await getHealth(t.db, HEALTH_KINDS);
    expect(health).toMatchObject({ pending: 3, oldestPendingSeconds: null, paused: { platforms: 0, links: 1 } });

    const resumed = await requestPause({ linkRef: s.resourceLinkRef }, false, g.jobs());
    expect(resumed).toMatchObject({ changed: true, pushed: 1 });
    expect(emu.emulator.scores(s.lineItemId!)).toHaveLength(3);
  });

  it("a paused platform: no pushes, no roster reads, for any of its links; the CLI pauses and resumes it", async () => {
    const a = await seedTriple(t.db, emu.emulator, { contextId: "pa2", resourceLinkId: "r", withLineItem: true });
    const b = await seedTriple(t.db, emu.emulator, { contextId: "pa3", resourceLinkId: "r", withLineItem: true });
    const other = await seedTriple(t.db, emu.emulator, { platformId: "platform-2", contextId: "pa4", resourceLinkId: "r", withLineItem: true });
    const cli = async (...argv: string[]) => {
      const args = parseCliArgs(argv);
      return printResult(args, await runCommand(t.db, args, g.jobs()));
    };
    expect(await cli("pause", "--platform", a.platformId)).toContain("paused");
    await recordScores([...scoresFor(a, 2), ...scoresFor(b, 2), ...scoresFor(other, 2)], { source: "webhook" });
    emu.emulator.log.length = 0;
    const run = await g.run("push-grades");
    expect(run.counts).toMatchObject({ sent: 2, paused: 4 });
    const rosters = await g.run("refresh-rosters");
    expect(lmsCalls().filter((l) => l.platformId === a.platformId)).toHaveLength(0);
    expect(rosters.counts).toMatchObject({ skipped_paused: 2 });
    expect((await getHealth(t.db, HEALTH_KINDS)).paused).toEqual({ platforms: 1, links: 0 });

    expect(await cli("resume", "--platform", a.platformId)).toMatch(/resumed; 2 course\(s\) pushed/);
    expect(emu.emulator.scores(a.lineItemId!)).toHaveLength(2);
    expect(emu.emulator.scores(b.lineItemId!)).toHaveLength(2);
    await expect(cli("pause")).rejects.toThrow(/--platform ID/);
    await expect(cli("pause", "--platform", "nope")).rejects.toThrow(/no platform nope/);
  });

  it("the CLI sets and clears a platform's ceiling of requests in flight", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "pa5", resourceLinkId: "r", withLineItem: true });
    const run = (...argv: string[]) => runCommand(t.db, parseCliArgs(argv), g.jobs());
    expect(await run("platform", "--platform", s.platformId, "--concurrency", "6")).toEqual({ platform: s.platformId, ceiling: 6 });
    const ceiling = async () =>
      ((await t.db.execute(sql`SELECT concurrency_ceiling FROM platforms WHERE platform_id = ${s.platformId}`)) as unknown as { rows: { concurrency_ceiling: number | null }[] })
        .rows[0].concurrency_ceiling;
    expect(await ceiling()).toBe(6);
    await run("platform", "--platform", s.platformId, "--concurrency", "default");
    expect(await ceiling()).toBeNull();
    await expect(run("platform", "--platform", s.platformId, "--concurrency", "17")).rejects.toThrow(/1 to 16/);
  });

  it("the CLI's --context takes the LMS's ids too, URL-encoded (an id may hold a /)", async () => {
    const s = await seedTriple(t.db, emu.emulator, { contextId: "course/7", resourceLinkId: "unit 1/quiz", withLineItem: true });
    const run = async (...argv: string[]) => runCommand(t.db, parseCliArgs(argv), g.jobs());
    const encoded = [s.platformId, s.contextId, s.resourceLinkId].map(encodeURIComponent).join("/");
    expect(await run("pause", "--context", encoded)).toMatchObject({ changed: true });
    const paused = ((await t.db.execute(sql`SELECT paused_at FROM resource_links WHERE id = ${s.resourceLinkRef}::uuid`)) as unknown as { rows: { paused_at: Date | null }[] }).rows[0];
    expect(paused.paused_at).not.toBeNull();
    // The course alone names its first resource link; a raw slash in an id is not an id.
    expect(await run("resume", "--context", `${encodeURIComponent(s.platformId)}/${encodeURIComponent(s.contextId)}`)).toMatchObject({ changed: true });
    await expect(run("pause", "--context", `${s.platformId}/${s.contextId}/${s.resourceLinkId}`)).rejects.toThrow(/no context|platformId\/contextId/);
    await expect(run("pause", "--context", "p/%E0%A4%A")).rejects.toThrow(/URL encoding/);
  });
});
