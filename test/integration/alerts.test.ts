/**
 * Operator alerts (issue 12 item 8): a local HTTP receiver stands for Slack/Teams and captures what
 * ALERT_WEBHOOK_URL is sent. Each condition is raised once, told once a day, cleared once; runs'
 * ends and cron calls evaluate (inline and under Inngest) without failing or waiting on the receiver;
 * without the URL nothing is sent; the URL never reaches a log line.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { InngestTestEngine } from "@inngest/test";
import type { ReactElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { AlertsNote } from "@/app/admin/alerts-note";
import { sql } from "drizzle-orm";
import { alertsIdle, evaluateAlerts, evaluateAlertsQuietly, MAX_MESSAGES_PER_EVALUATION, type AlertCondition } from "@/lib/alerts";
import { setDbForTests } from "@/lib/db/client";
import { rowsOf } from "@/lib/db/rows";
import { setEnvForTests } from "@/lib/env";
import { recordScores } from "@/lib/grades/record";
import { inngestFunction } from "@/lib/inngest/functions";
import { handleCron } from "@/lib/jobs/cron";
import { createDispatcher } from "@/lib/jobs/dispatch";
import { pushContextJob } from "@/lib/jobs/definitions/push-context";
import { runFailed, SELF, startRun, unitDone } from "@/lib/jobs/runs";
import { truncateAll, useTestDb } from "../support/db";
import { useEmulator } from "../support/emulator";
import { TEST_KEYS, testEnv } from "../support/env";
import { scoresFor, seedTriple, useGradeEnv, type Seeded } from "../support/seed";

const t = useTestDb();
const emu = useEmulator({ resetEach: true });
const g = useGradeEnv(emu);

// ─── The receiver ───────────────────────────────────────────────────────────────────────────
const SECRET_PATH = "/services/T0ALERTSX/B0ALERTSY/s3cretAlertT0ken42";

interface Received {
  path: string;
  body: Record<string, unknown> & { condition: AlertCondition; cleared: boolean };
}
let server: Server;
let received: Received[] = [];
/** What the receiver answers (a status), or "hold": it keeps the request open until released. */
let answer: number | "hold" = 200;
let held: ServerResponse[] = [];
let hookUrl = "";

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (data += c));
    req.on("end", () => {
      received.push({ path: req.url ?? "", body: JSON.parse(data) });
      if (answer === "hold") held.push(res);
      else {
        res.statusCode = answer;
        res.end(answer < 300 ? "ok" : "no_service");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${SECRET_PATH}`;
});
afterAll(async () => {
  for (const r of held) r.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const configure = (extra: Record<string, string | undefined> = {}) =>
  setEnvForTests(testEnv({ LTIAAS_URL: emu.url, ALERT_WEBHOOK_URL: hookUrl, ...extra }));

beforeEach(async () => {
  await alertsIdle();
  await truncateAll(t.db);
  received = [];
  answer = 200;
  held = [];
  configure();
});
afterEach(async () => {
  for (const r of held.splice(0)) r.end("ok");
  await alertsIdle();
});

const told = (condition: AlertCondition, cleared?: boolean) =>
  received.filter((r) => r.body.condition === condition && (cleared === undefined || r.body.cleared === cleared));
const evaluate = (now = new Date()) => evaluateAlerts(t.db, { now });
const exec = (q: ReturnType<typeof sql>) => t.db.execute(q);

// ─── Each condition: how to raise it and how to end it ─────────────────────────────────────
interface Case {
  condition: AlertCondition;
  raise(s: Seeded): Promise<void>;
  end(s: Seeded): Promise<void>;
  /** Which ids the message names. */
  ids(s: Seeded): { platformId: string | null; contextId: string | null; resourceLinkId: string | null };
}
const linkIds = (s: Seeded) => ({ platformId: s.platformId, contextId: s.contextId, resourceLinkId: s.resourceLinkId });
const rowsTo = (s: Seeded, state: string, extra = sql``) =>
  exec(sql`UPDATE grade_rows SET state = ${state}, failed_at = CASE WHEN ${state} = 'failed' THEN now() END ${extra} WHERE resource_link_ref = ${s.resourceLinkRef}::uuid`);
const scored = async (s: Seeded) => void (await recordScores(scoresFor(s, 2), { source: "webhook" }));

const CASES: (Case & { name: string })[] = [
  {
    name: "needs_relaunch: the link's key needs a relaunch",
    condition: "needs_relaunch",
    raise: (s) => exec(sql`UPDATE service_keys SET state = 'needs_relaunch' WHERE resource_link_ref = ${s.resourceLinkRef}::uuid`).then(() => undefined),
    end: (s) => exec(sql`UPDATE service_keys SET state = 'active' WHERE resource_link_ref = ${s.resourceLinkRef}::uuid`).then(() => undefined),
    ids: linkIds,
  },
  {
    name: "failing: failed rows",
    condition: "failing",
    raise: async (s) => void (await scored(s), await rowsTo(s, "failed")),
    end: async (s) => void (await rowsTo(s, "sent")),
    ids: linkIds,
  },
  {
    name: "failing: the gradebook column is missing",
    condition: "failing",
    raise: (s) => exec(sql`UPDATE resource_links SET line_item_state = 'missing' WHERE id = ${s.resourceLinkRef}::uuid`).then(() => undefined),
    end: (s) => exec(sql`UPDATE resource_links SET line_item_state = 'ok' WHERE id = ${s.resourceLinkRef}::uuid`).then(() => undefined),
    ids: linkIds,
  },
  {
    name: "failing: the last reconcile found sent scores missing from the LMS",
    condition: "failing",
    raise: (s) => exec(sql`UPDATE resource_links SET drift_missing = 2, drift_checked_at = now() WHERE id = ${s.resourceLinkRef}::uuid`).then(() => undefined),
    end: (s) => exec(sql`UPDATE resource_links SET drift_missing = 0 WHERE id = ${s.resourceLinkRef}::uuid`).then(() => undefined),
    ids: linkIds,
  },
  {
    name: "overridden: grades a person set in the LMS",
    condition: "overridden",
    raise: async (s) => void (await scored(s), await rowsTo(s, "overridden")),
    end: async (s) => void (await rowsTo(s, "sent")),
    ids: linkIds,
  },
  {
    name: "pending_too_long: the oldest pending score is older than ALERT_PENDING_MINUTES",
    condition: "pending_too_long",
    raise: async (s) => void (await scored(s), await exec(sql`UPDATE grade_rows SET pending_since = now() - interval '121 minutes' WHERE resource_link_ref = ${s.resourceLinkRef}::uuid`)),
    end: async (s) => void (await rowsTo(s, "sent", sql`, pending_since = NULL`)),
    ids: linkIds,
  },
  {
    name: "run_failed: a run of the whole tool ended failed (no platform, course or link)",
    condition: "run_failed",
    raise: async () => void (await runFailed(t.db, await startRun(t.db, { kind: "push-grades", trigger: "test", unit: SELF }), "LtiaasError")),
    end: async () => void (await unitDone(t.db, await startRun(t.db, { kind: "push-grades", trigger: "test", unit: SELF }), SELF, {})),
    ids: () => ({ platformId: null, contextId: null, resourceLinkId: null }),
  },
  {
    name: "run_failed: a run of one course ended failed",
    condition: "run_failed",
    raise: async (s) => void (await runFailed(t.db, await startRun(t.db, { kind: "push-grades", trigger: "manual", contextRef: s.contextRef, unit: s.contextRef }), "Error")),
    end: async (s) => void (await unitDone(t.db, await startRun(t.db, { kind: "push-grades", trigger: "manual", contextRef: s.contextRef, unit: s.contextRef }), s.contextRef, {})),
    ids: (s) => ({ platformId: s.platformId, contextId: s.contextId, resourceLinkId: null }),
  },
  {
    name: "throttled: the platform refused for throttling in more than 15 minutes of the last hour",
    condition: "throttled",
    raise: (s) => throttledMinutes(s, 16),
    end: (s) => exec(sql`DELETE FROM platform_throttles WHERE platform_ref = ${s.platformRef}::uuid`).then(() => undefined),
    ids: (s) => ({ platformId: s.platformId, contextId: null, resourceLinkId: null }),
  },
];

/** `n` distinct minutes of the last hour with throttling answers (two rows in one of them: still one minute). */
async function throttledMinutes(s: Seeded, n: number): Promise<void> {
  await exec(sql`INSERT INTO platform_throttles (platform_ref, minute, answers)
    SELECT ${s.platformRef}::uuid, date_trunc('minute', now()) - make_interval(mins => i), 3 FROM generate_series(0, ${n - 1}::int) AS i`);
}

const seed = (contextId = "al1", extra: Partial<Parameters<typeof seedTriple>[2]> = {}) =>
  seedTriple(t.db, emu.emulator, { contextId, resourceLinkId: "r1", title: "Lab <!channel>", withLineItem: true, learners: 3, ...extra });

describe("each condition", () => {
  it.each(CASES)("$name — raised once, deduplicated the same day, cleared once", async (c) => {
    const s = await seed();
    expect((await evaluate()).sent).toBe(0);
    expect(received).toEqual([]);

    await c.raise(s);
    await evaluate();
    expect(told(c.condition)).toHaveLength(1);
    expect(told(c.condition)[0].body).toMatchObject({ condition: c.condition, cleared: false, ...c.ids(s), adminUrl: "/admin", text: expect.any(String) });
    expect(told(c.condition)[0].path).toBe(SECRET_PATH);

    // A second evaluation the same day sends nothing new, and neither do later ones.
    await evaluate();
    await evaluate();
    expect(told(c.condition)).toHaveLength(1);

    await c.end(s);
    await evaluate();
    expect(told(c.condition, true)).toHaveLength(1);
    expect(told(c.condition, true)[0].body).toMatchObject({ condition: c.condition, cleared: true, ...c.ids(s) });
    await evaluate();
    expect(told(c.condition)).toHaveLength(2);
  });

  it("is told again the next day while it lasts (once), and a new episode is told afresh", async () => {
    const s = await seed();
    await CASES[0].raise(s);
    const today = new Date();
    const tomorrow = new Date(today.getTime() + 86_400_000);
    await evaluate(today);
    await evaluate(tomorrow);
    await evaluate(tomorrow);
    expect(told("needs_relaunch").map((m) => m.body.cleared)).toEqual([false, false]);

    await CASES[0].end(s);
    await evaluate(tomorrow);
    const dayAfter = new Date(tomorrow.getTime() + 86_400_000);
    await CASES[0].raise(s);
    await evaluate(dayAfter);
    expect(told("needs_relaunch").map((m) => m.body.cleared)).toEqual([false, false, true, false]);
  });

  it("a condition that came and went before it was told says nothing at all", async () => {
    const s = await seed();
    answer = 503;
    await CASES[0].raise(s);
    expect((await evaluate()).undelivered).toBe(1);
    await CASES[0].end(s);
    answer = 200;
    await evaluate();
    // Only the refused attempt reached the receiver: no "cleared" for something never told.
    expect(told("needs_relaunch")).toHaveLength(1);
    expect(told("needs_relaunch", true)).toHaveLength(0);
  });

  it("throttled needs more than 15 distinct minutes in the last hour", async () => {
    const s = await seed();
    await throttledMinutes(s, 15);
    // A second row inside a minute already counted is still that one minute.
    await exec(sql`INSERT INTO platform_throttles (platform_ref, minute, answers) VALUES (${s.platformRef}::uuid, date_trunc('minute', now()) - interval '90 seconds', 1)`);
    await evaluate();
    expect(told("throttled")).toHaveLength(0);
    // An hour later the same minutes are out of the window.
    await exec(sql`DELETE FROM platform_throttles`);
    await throttledMinutes(s, 16);
    await evaluate(new Date(Date.now() + 2 * 3_600_000));
    expect(told("throttled")).toHaveLength(0);
    await evaluate();
    expect(told("throttled")).toHaveLength(1);
  });

  it("run_failed stays raised until a later run of its kind does not fail (a running one does not count)", async () => {
    await CASES[6].raise(undefined as never);
    await evaluate();
    await startRun(t.db, { kind: "push-grades", trigger: "test", unit: SELF });
    // Another kind's success says nothing about push-grades.
    await unitDone(t.db, await startRun(t.db, { kind: "refresh-rosters", trigger: "test", unit: SELF }), SELF, {});
    // Long after the failure, too: it is still the last push-grades run that ended.
    await evaluate(new Date(Date.now() + 10 * 86_400_000));
    expect(told("run_failed").map((m) => m.body.cleared)).toEqual([false, false]);
    expect(told("run_failed")[0].body.text).toContain("push-grades");
    await CASES[6].end(undefined as never);
    await evaluate(new Date(Date.now() + 10 * 86_400_000));
    expect(told("run_failed").map((m) => m.body.cleared)).toEqual([false, false, true]);
  });
});

describe("pauses", () => {
  it("a paused link or a paused platform raises no pending alert; resumed, it does", async () => {
    const s = await seed();
    await CASES[5].raise(s);
    await exec(sql`UPDATE resource_links SET paused_at = now() WHERE id = ${s.resourceLinkRef}::uuid`);
    await evaluate();
    await exec(sql`UPDATE resource_links SET paused_at = NULL WHERE id = ${s.resourceLinkRef}::uuid`);
    await exec(sql`UPDATE platforms SET paused_at = now() WHERE id = ${s.platformRef}::uuid`);
    await evaluate();
    expect(told("pending_too_long")).toHaveLength(0);
    await exec(sql`UPDATE platforms SET paused_at = NULL WHERE id = ${s.platformRef}::uuid`);
    await evaluate();
    expect(told("pending_too_long")).toHaveLength(1);
  });

  it("ALERT_PENDING_MINUTES sets the limit", async () => {
    configure({ ALERT_PENDING_MINUTES: "300" });
    const s = await seed();
    await CASES[5].raise(s);
    await evaluate();
    expect(told("pending_too_long")).toHaveLength(0);
    configure({ ALERT_PENDING_MINUTES: "60" });
    await evaluate();
    expect(told("pending_too_long")).toHaveLength(1);
    expect(told("pending_too_long")[0].body.text).toContain("60 minutes");
  });
});

describe("delivery", () => {
  it("one message per condition and link even when evaluations run at once", async () => {
    const a = await seed("al1");
    const b = await seed("al2");
    await CASES[0].raise(a);
    await CASES[0].raise(b);
    await Promise.all([evaluate(), evaluate(), evaluate()]);
    expect(told("needs_relaunch").map((m) => m.body.contextId).sort()).toEqual(["al1", "al2"]);
  });

  it(`sends at most ${MAX_MESSAGES_PER_EVALUATION} messages per evaluation, the most urgent first; the rest follow`, async () => {
    const s = await seed();
    await CASES[0].raise(s);
    // More links with grades set by hand than one evaluation tells (inserted directly: no launch needed).
    await exec(sql`INSERT INTO resource_links (context_ref, resource_link_id, title)
      SELECT ${s.contextRef}::uuid, 'extra-' || i, 'Extra ' || i FROM generate_series(1, ${MAX_MESSAGES_PER_EVALUATION}::int) AS i`);
    await exec(sql`INSERT INTO grade_counters (resource_link_ref, context_ref, overridden)
      SELECT id, context_ref, 1 FROM resource_links WHERE resource_link_id LIKE 'extra-%'`);
    await evaluate();
    expect(received).toHaveLength(MAX_MESSAGES_PER_EVALUATION);
    expect(received[0].body.condition).toBe("needs_relaunch");
    await evaluate();
    expect(received).toHaveLength(MAX_MESSAGES_PER_EVALUATION + 1);
    await evaluate();
    expect(received).toHaveLength(MAX_MESSAGES_PER_EVALUATION + 1);
  });

  it("a receiver that refuses is tried again at the next evaluation, and told only once it took it", async () => {
    const s = await seed();
    await CASES[0].raise(s);
    answer = 500;
    expect(await evaluate()).toMatchObject({ sent: 0, undelivered: 1 });
    answer = 200;
    expect(await evaluate()).toMatchObject({ sent: 1, undelivered: 0 });
    await evaluate();
    expect(told("needs_relaunch")).toHaveLength(2);
  });

  it("nothing is sent, nor kept, without ALERT_WEBHOOK_URL — not by a run's end, a cron call or an evaluation", async () => {
    configure({ ALERT_WEBHOOK_URL: undefined });
    const s = await seed();
    await CASES[0].raise(s);
    await CASES[6].raise(s);
    expect(await evaluate()).toMatchObject({ enabled: false, sent: 0 });
    await g.push(s.contextRef);
    expect((await handleCron("grades", cronRequest(), { dispatcher: g.jobs() })).status).toBe(200);
    await alertsIdle();
    expect(received).toEqual([]);
    expect(await rowsOf(t.db, sql`SELECT 1 FROM alerts`)).toEqual([]);
    // Turned on later, what holds now is told.
    configure();
    await evaluate();
    expect(told("needs_relaunch")).toHaveLength(1);
  });
});

const cronRequest = (origin = "http://gradesync.example.test:8080", auth = `Bearer ${TEST_KEYS.cron}`) =>
  new Request(`${origin}/api/cron/grades`, { headers: { authorization: auth } });

describe("when alerts are evaluated", () => {
  it("at the end of an inline run, in the background: the run does not wait for the receiver", async () => {
    const s = await seed();
    await recordScores(scoresFor(s, 2), { source: "webhook" });
    emu.emulator.revokeServiceKey(s.serviceKey);
    answer = "hold";
    const run = await g.push(s.contextRef);
    expect(run.outcome).toBe("partial");
    // The run answered while its alert was still on its way (or not yet sent): it did not wait.
    await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 5_000 });
    held.splice(0).forEach((r) => r.end("ok"));
    await alertsIdle();
    expect(told("needs_relaunch")).toHaveLength(1);
    const [row] = await rowsOf<{ notified_on: string | null }>(t.db, sql`SELECT notified_on::text FROM alerts WHERE condition = 'needs_relaunch'`);
    expect(row.notified_on).not.toBeNull();
  });

  it("at the end of a run under Inngest, in a step of its own after the settle", async () => {
    const s = await seed();
    await recordScores(scoresFor(s, 2), { source: "webhook" });
    emu.emulator.revokeServiceKey(s.serviceKey);
    const { ctx, error } = await new InngestTestEngine({
      function: inngestFunction("push-context", g.functions()),
      events: [{ name: pushContextJob.event, data: { contextRef: s.contextRef, platformId: s.platformId, runId: null } }],
    }).execute();
    expect(error).toBeUndefined();
    const ids = (ctx as unknown as { step: { run: { mock: { calls: unknown[][] } } } }).step.run.mock.calls.map((c) => c[0]);
    expect(ids.slice(-2)).toEqual(["finish", "alerts"]);
    // Sent inside the step, not left to the background.
    expect(told("needs_relaunch")).toHaveLength(1);
  });

  it("by every authorised cron call, linking to /admin on the call's origin (APP_URL wins); an unauthorised call evaluates nothing", async () => {
    const s = await seed();
    await CASES[1].raise(s);
    expect((await handleCron("grades", cronRequest(undefined, "Bearer wrong-secret-000000"), { dispatcher: g.jobs() })).status).toBe(401);
    await alertsIdle();
    expect(received).toEqual([]);

    // With Inngest the call only enqueues (no run ends here): its own evaluation tells, before it answers.
    const enqueueOnly = createDispatcher({ mode: "inngest", send: async () => undefined });
    const answered = await handleCron("grades", cronRequest(), { dispatcher: enqueueOnly });
    expect(answered.status).toBe(202);
    expect(told("failing")).toHaveLength(1);
    expect(told("failing")[0].body.adminUrl).toBe("http://gradesync.example.test:8080/admin");

    // Inline, the run the call starts tells with the call's origin too.
    await CASES[0].raise(s);
    expect((await handleCron("grades", cronRequest(), { dispatcher: g.jobs() })).status).toBe(200);
    await alertsIdle();
    expect(told("needs_relaunch")[0].body.adminUrl).toBe("http://gradesync.example.test:8080/admin");

    configure({ APP_URL: "https://grades.example.edu/" });
    await CASES[1].end(s);
    await handleCron("grades", cronRequest(), { dispatcher: enqueueOnly });
    expect(told("failing", true)[0].body.adminUrl).toBe("https://grades.example.edu/admin");
  });

  it("an evaluation that fails never fails the run or the cron call: it is logged", async () => {
    const s = await seed();
    await recordScores(scoresFor(s, 2), { source: "webhook" });
    await exec(sql`ALTER TABLE alerts RENAME TO alerts_away`);
    try {
      const run = await g.push(s.contextRef);
      expect(run.outcome).toBe("completed");
      expect((await handleCron("grades", cronRequest(), { dispatcher: g.jobs() })).status).toBe(200);
      await alertsIdle();
      expect(await evaluateAlertsQuietly(t.db)).toBeNull();
    } finally {
      await exec(sql`ALTER TABLE alerts_away RENAME TO alerts`);
    }
    // A database that cannot even be opened for the evaluation: the event was sent, the call says so.
    const dbHolder = globalThis as unknown as { __gradesyncDb?: Promise<unknown> };
    const unopenable = Promise.reject(new Error("cannot open the database"));
    unopenable.catch(() => undefined);
    dbHolder.__gradesyncDb = unopenable;
    try {
      const enqueueOnly = createDispatcher({ mode: "inngest", send: async () => undefined });
      expect((await handleCron("grades", cronRequest(), { dispatcher: enqueueOnly })).status).toBe(202);
    } finally {
      setDbForTests(t.handle);
    }
  });
});

describe("/admin", () => {
  const note = async () => renderToStaticMarkup((await AlertsNote()) as ReactElement);

  it("says how to turn alerts on without the URL, and that they are on (never the URL) with it", async () => {
    configure({ ALERT_WEBHOOK_URL: undefined });
    expect(await note()).toMatch(/Alerts are off\..*set <code>ALERT_WEBHOOK_URL<\/code> to a Slack or\s+Teams incoming webhook/s);
    configure();
    const s = await seed();
    await CASES[0].raise(s);
    await evaluate();
    const on = await note();
    expect(on).toContain("Alerts are on: 1 condition is raised now");
    for (const secret of [hookUrl, SECRET_PATH, "s3cretAlertT0ken42"]) expect(on).not.toContain(secret);
  });
});

describe("the webhook URL is a secret", () => {
  let logged: string[];
  beforeEach(() => {
    process.env.GRADESYNC_LOG = "on";
    logged = [];
    // Captured, not printed: the test output stays quiet.
    for (const stream of [process.stdout, process.stderr])
      vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
        logged.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
        return true;
      });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.env.GRADESYNC_LOG = "silent";
  });

  it("never appears in a log line: sent, refused, unreachable, or when an evaluation fails", async () => {
    const s = await seed();
    await CASES[0].raise(s);
    answer = 500;
    await evaluate();
    answer = 200;
    await evaluate();
    await CASES[1].raise(s);
    // Nobody listens there: the same secret path on a closed port.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}${SECRET_PATH}`;
    await new Promise((resolve) => closed.close(resolve));
    configure({ ALERT_WEBHOOK_URL: deadUrl });
    expect(await evaluate()).toMatchObject({ undelivered: 1 });
    await exec(sql`ALTER TABLE alerts RENAME TO alerts_away`);
    try {
      expect(await evaluateAlertsQuietly(t.db)).toBeNull();
    } finally {
      await exec(sql`ALTER TABLE alerts_away RENAME TO alerts`);
    }

    const text = logged.join("");
    // The failures are logged, by status or error name, for the operator…
    expect(text).toMatch(/"event":"alerts.undelivered".*"status":500/);
    expect(text).toMatch(/"event":"alerts.undelivered".*"error":"[^"]*ECONNREFUSED/);
    expect(text).toContain('"event":"alerts.evaluation_failed"');
    expect(text).toContain('"event":"alerts.evaluated"');
    // …and nothing of the URL's secret part, in any form.
    for (const secret of [hookUrl, deadUrl, SECRET_PATH, "s3cretAlertT0ken42", encodeURIComponent(SECRET_PATH)]) expect(text).not.toContain(secret);
  });
});
