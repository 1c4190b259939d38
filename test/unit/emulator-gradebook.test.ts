/**
 * The emulated LMS's gradebook, through HTTP as the LTIAAS client calls it: results (paging, ?userId=,
 * the LMS's scale), hand edits, and what each LMS family does with a score.
 */
import { describe, expect, it } from "vitest";
import { T0, score, useClockedEmulator, type GradedCourse } from "../support/emulator-http";

const emu = useClockedEmulator();
const enc = encodeURIComponent;
const EXT = "https://canvas.instructure.com/lti/submission";
const at = (iso: string) => Date.parse(iso);

/** Every result of a line item, following `next` as the client does (`?url=<encoded next>`). */
async function allResults(c: GradedCourse, first: string) {
  const pages = [];
  let query: string | undefined = first;
  while (query !== undefined) {
    const a = await emu.results(c, query);
    expect(a.status, a.text).toBe(200);
    pages.push(a.body);
    query = a.body.next ? `?url=${enc(a.body.next)}` : undefined;
  }
  return pages as { scores: Record<string, unknown>[]; next?: string }[];
}

describe("results", () => {
  it("pages with limit and next, on the column's scale, one row per user with its latest grade", async () => {
    const c = emu.course({ learners: 7, scoreMaximum: 20 });
    for (let i = 1; i <= 7; i++) expect((await emu.post(c, score(`s${i}`, i))).status).toBe(204);
    // A newer score replaces the older one; not FullyGraded clears the grade but keeps the result.
    expect((await emu.post(c, score("s2", 9, { comment: "regraded" }))).status).toBe(204);
    expect((await emu.post(c, { userId: "s7", activityProgress: "Submitted", gradingProgress: "Pending" })).status).toBe(204);

    const pages = await allResults(c, "?limit=3");
    expect(pages.map((p) => p.scores.length)).toEqual([3, 3, 1]);
    expect(pages[2]).not.toHaveProperty("next");
    const rows = pages.flatMap((p) => p.scores);
    expect(rows.map((r) => r.userId)).toEqual(["s1", "s2", "s3", "s4", "s5", "s6", "s7"]);
    expect(rows[0]).toEqual({ id: expect.any(String), userId: "s1", scoreOf: c.lineItemId, resultScore: 2, resultMaximum: 20, comment: "ok" });
    expect(rows[1]).toMatchObject({ resultScore: 18, resultMaximum: 20, comment: "regraded" });
    expect(rows[6]).toEqual({ id: expect.any(String), userId: "s7", scoreOf: c.lineItemId });

    // Without a limit: the LMS's page size.
    emu.emulator.faults.lineItemPageSize = 4;
    expect((await allResults(c, "")).map((p) => p.scores.length)).toEqual([4, 3]);
  });

  it("scales a score given on the tool's scale to the line item's maximum", async () => {
    const c = emu.course({ scoreMaximum: 20 });
    await emu.post(c, score("s1", 3, { scoreMaximum: 4 }));
    await emu.post(c, score("s2", 0));
    const rows = (await emu.results(c)).body.scores;
    expect(rows.map((r: Record<string, unknown>) => [r.userId, r.resultScore, r.resultMaximum])).toEqual([
      ["s1", 15, 20],
      ["s2", 0, 20],
    ]);
  });

  it("filters by userId, pages the filter along, and answers an empty list for a user without a result", async () => {
    const c = emu.course({ learners: 4 });
    for (const u of ["s1", "s2", "s3"]) await emu.post(c, score(u, 5));
    const one = await emu.results(c, "?userId=s2");
    expect(one.body).toEqual({ scores: [expect.objectContaining({ userId: "s2", resultScore: 50 })] });
    expect((await emu.results(c, "?userId=s4")).body).toEqual({ scores: [] });
    expect((await emu.results(c, "?userId=nobody&limit=1")).body).toEqual({ scores: [] });
    const limited = await allResults(c, "?userId=s3&limit=1");
    expect(limited.flatMap((p) => p.scores).map((r) => r.userId)).toEqual(["s3"]);

    // A next link of another line item is refused.
    const other = emu.emulator.addLineItem(c.platformId, c.contextId, { label: "Other", scoreMaximum: 10 });
    const foreign = `${other}/results?page=2&per_page=1`;
    const refused = await emu.results(c, `?url=${enc(foreign)}`);
    expect(refused.status).toBe(400);
    expect(refused.body.details.message).toBe("INVALID_PARAMETERS");
  });
});

describe("hand edits", () => {
  it("a grade set by hand is the result (a person's, with when); cleared, the result disappears", async () => {
    const c = emu.course({ productFamilyCode: "sakai" });
    await emu.post(c, score("s1", 7));
    emu.clock = at("2026-03-02T09:05:00.000Z");
    emu.emulator.setHandGrade(c.lineItemId, "s1", 95);
    // Not Canvas: a hand grade with no tool result behind it is listed at once.
    emu.emulator.setHandGrade(c.lineItemId, "s2", 40);
    const rows = (await emu.results(c)).body.scores;
    expect(rows.map((r: Record<string, unknown>) => [r.userId, r.resultScore])).toEqual([
      ["s1", 95],
      ["s2", 40],
    ]);
    expect(emu.emulator.gradebook(c.lineItemId)[0]).toMatchObject({ userId: "s1", resultScore: 95, setBy: "person", setAt: "2026-03-02T09:05:00.000Z", listed: true });

    emu.emulator.setHandGrade(c.lineItemId, "s1", null);
    expect((await emu.results(c)).body.scores.map((r: Record<string, unknown>) => r.userId)).toEqual(["s2"]);
    expect((await emu.results(c, "?userId=s1")).body.scores).toEqual([]);
    const cleared = emu.emulator.gradebook(c.lineItemId)[0];
    expect(cleared).toMatchObject({ userId: "s1", setBy: "person", listed: false });
    expect(cleared).not.toHaveProperty("resultScore");

    // The tool writes again over a cleared cell.
    emu.clock += 2000;
    await emu.post(c, score("s1", 6));
    expect((await emu.results(c, "?userId=s1")).body.scores).toEqual([expect.objectContaining({ resultScore: 60 })]);
    expect(() => emu.emulator.setHandGrade(c.lineItemId, "s1", -1)).toThrow();
    expect(() => emu.emulator.setHandGrade("https://nowhere/li/1", "s1", 1)).toThrow();
  });
});

describe("Canvas", () => {
  it("prioritize_non_tool_grade keeps a teacher's grade (204); without the flag the tool overwrites it", async () => {
    const c = emu.course();
    await emu.post(c, score("s1", 7));
    emu.emulator.setHandGrade(c.lineItemId, "s1", 95);

    const kept = await emu.post(c, score("s1", 8, { [EXT]: { prioritize_non_tool_grade: true, new_submission: false } }));
    expect(kept.status).toBe(204);
    expect((await emu.results(c, "?userId=s1")).body.scores[0]).toMatchObject({ resultScore: 95 });
    expect(emu.emulator.scores(c.lineItemId).at(-1)).toMatchObject({ scoreGiven: 8, effect: "kept_hand_grade" });
    expect(emu.emulator.gradebook(c.lineItemId)[0]).toMatchObject({ resultScore: 95, setBy: "person" });

    const overwrite = await emu.post(c, score("s1", 8, { [EXT]: { new_submission: false } }));
    expect(overwrite.status).toBe(204);
    expect((await emu.results(c, "?userId=s1")).body.scores[0]).toMatchObject({ resultScore: 80 });
    expect(emu.emulator.scores(c.lineItemId).at(-1)!.effect).toBe("stored");
    expect(emu.emulator.gradebook(c.lineItemId)[0]).toMatchObject({ resultScore: 80, setBy: "tool" });

    // With the tool's own grade in the cell, the flag protects nothing.
    await emu.post(c, score("s1", 9, { [EXT]: { prioritize_non_tool_grade: true } }));
    expect((await emu.results(c, "?userId=s1")).body.scores[0]).toMatchObject({ resultScore: 90 });
  });

  it("lists a grade a person entered before any tool result only once a tool result exists", async () => {
    const c = emu.course();
    emu.emulator.setHandGrade(c.lineItemId, "s1", 88);
    emu.emulator.setHandGrade(c.lineItemId, "s2", 77);
    expect((await emu.results(c)).body.scores).toEqual([]);
    expect((await emu.results(c, "?userId=s1")).body.scores).toEqual([]);
    expect(emu.emulator.gradebook(c.lineItemId).map((g) => [g.userId, g.resultScore, g.listed])).toEqual([
      ["s1", 88, false],
      ["s2", 77, false],
    ]);

    expect((await emu.post(c, score("s1", 5, { [EXT]: { prioritize_non_tool_grade: true } }))).status).toBe(204);
    expect((await emu.post(c, score("s2", 5))).status).toBe(204);
    expect((await emu.results(c)).body.scores.map((r: Record<string, unknown>) => [r.userId, r.resultScore])).toEqual([
      ["s1", 88],
      ["s2", 50],
    ]);
  });

  it("marks a submission late by submittedAt, else the extension's submitted_at, else arrival, against endDateTime", async () => {
    const due = "2026-03-02T12:00:00.000Z";
    const c = emu.course({ learners: 4, endDateTime: due });
    emu.clock = at("2026-03-03T02:00:00.000Z"); // the nightly push, after the due date
    const before = "2026-03-02T11:30:00.000Z";
    expect((await emu.post(c, score("s1", 7, { submission: { submittedAt: before } }))).status).toBe(204);
    expect((await emu.post(c, score("s2", 7))).status).toBe(204);
    expect((await emu.post(c, score("s3", 7, { [EXT]: { submitted_at: before } }))).status).toBe(204);
    expect((await emu.post(c, score("s4", 7, { submission: { submittedAt: "2026-03-02T12:00:01.000Z" } }))).status).toBe(204);

    const cells = Object.fromEntries(emu.emulator.gradebook(c.lineItemId).map((g) => [g.userId, g]));
    expect(cells.s1).toMatchObject({ late: false, submittedAt: before });
    expect(cells.s2).toMatchObject({ late: true, submittedAt: "2026-03-03T02:00:00.000Z" });
    expect(cells.s3).toMatchObject({ late: false, submittedAt: before });
    expect(cells.s4).toMatchObject({ late: true });

    // Without a due date nothing is late; a due date set or moved later judges the submissions held.
    const open = emu.emulator.addLineItem(c.platformId, c.contextId, { label: "Open", scoreMaximum: 10 });
    const o = { ...c, lineItemId: open, scoresUrl: `/api/lineitems/${enc(open)}/scores` };
    await emu.post(o, score("s1", 1));
    expect(emu.emulator.gradebook(open)[0].late).toBe(false);
    emu.emulator.setDueDate(open, due);
    expect(emu.emulator.gradebook(open)[0].late).toBe(true);
    emu.emulator.setDueDate(open, "2026-03-04T00:00:00Z");
    expect(emu.emulator.gradebook(open)[0].late).toBe(false);
    // Only Canvas marks late.
    emu.emulator.setLmsFamily(c.platformId, "moodle");
    expect(emu.emulator.gradebook(c.lineItemId).find((g) => g.userId === "s2")!.late).toBe(false);
  });

  it("counts a new attempt per new_submission (true or absent), not for false", async () => {
    const c = emu.course();
    await emu.post(c, score("s1", 1));
    await emu.post(c, score("s1", 2, { [EXT]: { new_submission: true } }));
    await emu.post(c, score("s1", 3, { [EXT]: { new_submission: false, submitted_at: "2026-03-01T00:00:00.000Z" } }));
    const cell = emu.emulator.gradebook(c.lineItemId)[0];
    expect(cell).toMatchObject({ attempts: 2, resultScore: 30 });
    // new_submission false grades the attempt already there: its submission time stays.
    expect(cell.submittedAt).toBe(new Date(T0).toISOString());
  });

  it("refuses a submitted_at more than a minute ahead, and a score older than the cell when a test asks (400)", async () => {
    const c = emu.course();
    const ahead = new Date(T0 + 120_000).toISOString();
    for (const body of [score("s1", 5, { submission: { submittedAt: ahead } }), score("s1", 5, { [EXT]: { submitted_at: ahead } })]) {
      const a = await emu.post(c, body);
      expect(a.status).toBe(400);
      expect(a.body.details.message).toBe(`Provided submitted_at timestamp of ${ahead} in the future`);
    }
    expect((await emu.post(c, score("s1", 5, { submission: { submittedAt: new Date(T0 + 30_000).toISOString() } }))).status).toBe(204);

    emu.emulator.faults.timestampRefusal = { remaining: 1, userId: "s1" };
    expect((await emu.post(c, score("s2", 6))).status).toBe(204);
    const refused = await emu.post(c, score("s1", 6));
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ status: 400, details: { message: expect.stringMatching(/^Provided timestamp of \S+ before last updated timestamp of \S+$/) } });
    expect((await emu.results(c, "?userId=s1")).body.scores[0].resultScore).toBe(50);
    expect((await emu.post(c, score("s1", 6))).status).toBe(204);
  });
});

describe("what each post carried", () => {
  it("keeps submission times and Canvas's extension per post and in the request log", async () => {
    const c = emu.course();
    const submission = { startedAt: "2026-03-01T10:00:00Z", submittedAt: "2026-03-01T10:30:00+01:00" };
    const ext = { prioritize_non_tool_grade: true, new_submission: false, submitted_at: "2026-03-01T09:30:00Z" };
    await emu.post(c, score("s1", 5, { submission, [EXT]: ext }));
    await emu.post(c, score("s2", 5));
    const [first, second] = emu.emulator.scores(c.lineItemId);
    expect(first).toMatchObject({ submission, canvasSubmission: ext, effect: "stored" });
    expect(second).not.toHaveProperty("submission");
    expect(second).not.toHaveProperty("canvasSubmission");
    const posts = emu.emulator.log.filter((r) => r.method === "POST");
    expect(posts[0].sent).toEqual({ submission, canvasSubmission: ext });
    expect(posts[1]).not.toHaveProperty("sent");
  });

  it("answers LTIAAS's 400 for a submission time that is not an ISO date, and stores nothing", async () => {
    const c = emu.course();
    for (const submission of [{ submittedAt: "yesterday" }, { startedAt: "2026-03-01" }, { submittedAt: 1740000000 }]) {
      const a = await emu.post(c, score("s1", 5, { submission }));
      expect(a.status, JSON.stringify(submission)).toBe(400);
      expect(a.body).toMatchObject({ status: 400, error: "Bad Request", details: { message: "INVALID_PARAMETERS", description: expect.stringContaining("submission.") } });
    }
    expect(emu.emulator.scores(c.lineItemId)).toEqual([]);
  });
});

describe("Moodle", () => {
  it("refuses (409) a score in the same second as the cell's last change, ours or a person's", async () => {
    const c = emu.course({ productFamilyCode: "moodle" });
    emu.clock = at("2026-03-02T10:00:00.100Z");
    expect((await emu.post(c, score("s1", 5))).status).toBe(204);
    emu.clock = at("2026-03-02T10:00:00.900Z");
    const ours = await emu.post(c, score("s1", 6));
    expect(ours.status).toBe(409);
    expect(ours.body).toMatchObject({ status: 409, error: "Conflict", details: { message: `Refusing score with an earlier timestamp for item ${c.lineItemId} and user s1` } });
    expect((await emu.post(c, score("s2", 6))).status).toBe(204);
    emu.clock = at("2026-03-02T10:00:01.000Z");
    expect((await emu.post(c, score("s1", 6))).status).toBe(204);

    emu.clock = at("2026-03-02T10:00:05.200Z");
    emu.emulator.setHandGrade(c.lineItemId, "s1", 90);
    emu.clock = at("2026-03-02T10:00:05.800Z");
    expect((await emu.post(c, score("s1", 7))).status).toBe(409);
    expect((await emu.results(c, "?userId=s1")).body.scores[0].resultScore).toBe(90);
    emu.clock = at("2026-03-02T10:00:06.000Z");
    expect((await emu.post(c, score("s1", 7))).status).toBe(204);
    expect((await emu.results(c, "?userId=s1")).body.scores[0].resultScore).toBe(70);

    // The knob: the next score is refused as if the LMS's record were newer.
    emu.clock += 5000;
    emu.emulator.faults.timestampRefusal = { remaining: 1 };
    expect((await emu.post(c, score("s1", 8))).status).toBe(409);
    expect((await emu.post(c, score("s1", 8))).status).toBe(204);
    expect(emu.emulator.scores(c.lineItemId).map((p) => p.scoreGiven)).toEqual([5, 6, 6, 7, 8]);
  });
});

describe("D2L", () => {
  it("cuts a score above the maximum to the maximum; another family keeps it", async () => {
    const c = emu.course({ productFamilyCode: "desire2learn", scoreMaximum: 50 });
    expect((await emu.post(c, score("s1", 12))).status).toBe(204);
    expect((await emu.results(c, "?userId=s1")).body.scores[0]).toMatchObject({ resultScore: 50, resultMaximum: 50 });
    expect(emu.emulator.scores(c.lineItemId)[0].effect).toBe("clipped");
    expect(emu.emulator.gradebook(c.lineItemId)[0]).toMatchObject({ clipped: true });
    expect(emu.emulator.lmsFamily(c.platformId)).toBe("d2l");

    emu.emulator.setLmsFamily(c.platformId, "generic");
    expect((await emu.post(c, score("s2", 12))).status).toBe(204);
    expect((await emu.results(c, "?userId=s2")).body.scores[0]).toMatchObject({ resultScore: 60 });
    emu.emulator.setLmsFamily(c.platformId, null);
    expect(emu.emulator.lmsFamily(c.platformId)).toBe("d2l");
  });
});

describe("knobs", () => {
  it("drops scores of 0 (204, nothing stored), per platform, and a line item can say otherwise", async () => {
    const c = emu.course();
    emu.emulator.setGradebookKnobs({ platformId: c.platformId }, { dropZeroScores: true });
    expect((await emu.post(c, score("s1", 0))).status).toBe(204);
    expect((await emu.post(c, score("s2", 4))).status).toBe(204);
    expect((await emu.results(c)).body.scores.map((r: Record<string, unknown>) => r.userId)).toEqual(["s2"]);
    expect(emu.emulator.scores(c.lineItemId).map((p) => p.effect)).toEqual(["dropped_zero", "stored"]);

    emu.emulator.setGradebookKnobs({ lineItemId: c.lineItemId }, { dropZeroScores: false });
    expect(emu.emulator.gradebookKnobs(c.lineItemId)).toEqual({ dropZeroScores: false, discardScores: false });
    await emu.post(c, score("s1", 0));
    expect((await emu.results(c, "?userId=s1")).body.scores[0]).toMatchObject({ resultScore: 0 });
    emu.emulator.setGradebookKnobs({ lineItemId: c.lineItemId }, { dropZeroScores: null });
    expect(emu.emulator.gradebookKnobs(c.lineItemId).dropZeroScores).toBe(true);
  });

  it("accepts and discards (a concluded course): 204, nothing stored, no refusal", async () => {
    const c = emu.course({ productFamilyCode: "moodle" });
    await emu.post(c, score("s1", 5));
    emu.emulator.setGradebookKnobs({ lineItemId: c.lineItemId }, { discardScores: true });
    // Same second as the stored one: a concluded course does not even look.
    expect((await emu.post(c, score("s1", 9))).status).toBe(204);
    expect((await emu.post(c, score("s2", 9))).status).toBe(204);
    expect((await emu.results(c)).body.scores.map((r: Record<string, unknown>) => [r.userId, r.resultScore])).toEqual([["s1", 50]]);
    expect(emu.emulator.scores(c.lineItemId).map((p) => p.effect)).toEqual(["stored", "discarded", "discarded"]);
  });
});

describe("line item dates", () => {
  it("POST and PUT keep startDateTime and endDateTime; a date that is not ISO is refused", async () => {
    const c = emu.course();
    const created = await emu.call("POST", "/api/lineitems", c.serviceKey, {
      label: "Essay",
      scoreMaximum: 10,
      startDateTime: "2026-03-01T00:00:00Z",
      endDateTime: "2026-03-08T23:59:00+01:00",
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ startDateTime: "2026-03-01T00:00:00Z", endDateTime: "2026-03-08T23:59:00+01:00" });
    const path = `/api/lineitems/${enc(created.body.id)}`;
    // The emulator's knobs are the LMS's settings, not AGS fields: a PUT keeps them.
    emu.emulator.setGradebookKnobs({ lineItemId: created.body.id }, { discardScores: true });
    const put = await emu.call("PUT", path, c.serviceKey, { label: "Essay", scoreMaximum: 10, endDateTime: "2026-03-09T23:59:00Z" });
    expect(put.body).toEqual({ id: created.body.id, label: "Essay", scoreMaximum: 10, endDateTime: "2026-03-09T23:59:00Z" });
    expect((await emu.call("GET", path, c.serviceKey)).body.endDateTime).toBe("2026-03-09T23:59:00Z");
    expect(emu.emulator.gradebookKnobs(created.body.id).discardScores).toBe(true);
    const bad = await emu.call("POST", "/api/lineitems", c.serviceKey, { label: "x", scoreMaximum: 1, endDateTime: "next Friday" });
    expect(bad.status).toBe(400);
    expect(bad.body.details.description).toContain("endDateTime");
  });
});
