/** Words on the teacher page: the one-line verdict (most blocking cause first, never a false "press Sync now") and the recent runs. */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { latestAnswer, nextSeq } from "@/app/contexts/[id]/answers";
import { Verdict } from "@/app/contexts/[id]/verdict";
import type { LinkState } from "@/lib/links/state";
import { attemptWords, explain, runWords, withClassList } from "@/lib/views/reasons";

function view(over: { key?: LinkState["key"]["state"]; lineItem?: LinkState["lineItem"]["state"]; counts?: Partial<LinkState["counts"]> }): LinkState {
  return {
    id: crypto.randomUUID(),
    contextRef: crypto.randomUUID(),
    state: "ok",
    title: "Lab 1",
    resourceLinkId: "rl",
    launchLineItemId: null,
    course: { id: crypto.randomUUID(), contextId: "c", title: "Biology", label: null },
    platform: { platformId: "p", name: null, url: null, productFamilyCode: null, paused: false },
    key: { state: over.key ?? "active", lastLaunchAt: null, capturedAt: null, stateReason: null },
    lineItem: { id: null, state: over.lineItem ?? "ok", checkedAt: null },
    counts: { pending: 0, sent: 0, skipped: 0, failed: 0, overridden: 0, oldestPendingAt: null, ...over.counts },
    paused: false,
    pausedAt: null,
    drift: { checkedAt: null, inSync: 0, differs: 0, missing: 0 },
    roster: { refreshedAt: null, members: 0, activeLearners: 0 },
    lastRun: null,
  };
}

const say = (v: LinkState) => renderToStaticMarkup(createElement(Verdict, { view: v }));

describe("the teacher's verdict", () => {
  it("says no grade can go when the link has no serviceKey, instead of promising the next sync", () => {
    const html = say(view({ key: "missing", counts: { pending: 3 } }));
    expect(html).toContain("verdict bad");
    expect(html).toContain("no grade can be sent");
    expect(html).toContain("3 waiting grades are sent after that");
    expect(html).not.toContain("Sync now");
    expect(say(view({ key: "missing" }))).toContain("no grade can be sent");
  });

  it("keeps the usual order: relaunch, column, failures, waiting, nothing yet, in sync", () => {
    expect(say(view({ key: "needs_relaunch", counts: { pending: 1 } }))).toContain("1 waiting grade is sent after that");
    expect(say(view({ lineItem: "missing", counts: { pending: 1 } }))).toContain("column is gone");
    expect(say(view({ counts: { failed: 2, pending: 1 } }))).toContain("2 grades could not be sent");
    expect(say(view({ counts: { pending: 1 } }))).toContain("press Sync now");
    expect(say(view({}))).toContain("No scores yet");
    expect(say(view({ counts: { sent: 4, skipped: 1 } }))).toContain("except 1 your LMS would not take");
  });
});

describe("the teacher's recent runs in words", () => {
  it("says what a roster refresh did, not '0 sent', and why it ran", () => {
    const roster = runWords({ kind: "refresh-rosters", trigger: "debounce", counts: { refreshed: 1, skipped: 0, failed: 0, members: 31, inactivated: 2, pending: 0 } });
    expect(roster).toEqual({ kind: "Class list refresh", trigger: "after a teacher opened the course", counts: "31 members read from your LMS" });
    expect(runWords({ kind: "refresh-rosters", trigger: "cron", counts: { skipped: 1, skipped_no_nrps: 1 } }).counts).not.toMatch(/sent/);
    expect(runWords({ kind: "refresh-rosters", trigger: "debounce", counts: { failed: 1 } }).counts).toContain("did not send the class list");
  });

  it("credits an operator's backfill to the operator, and counts grades for pushes", () => {
    expect(runWords({ kind: "backfill", trigger: "manual", counts: { sent: 3 } })).toMatchObject({ trigger: "started by your school's administrator", counts: "3 sent" });
    expect(runWords({ kind: "push-grades", trigger: "manual", counts: { sent: 2, failed: 1, skipped: 4 } })).toEqual({
      kind: "Grade sync",
      trigger: "a teacher pressed Sync now",
      counts: "2 sent, 1 failed, 4 not sent",
    });
    expect(runWords({ kind: "push-grades", trigger: "debounce", counts: {} })).toMatchObject({ trigger: "after new scores", counts: "0 sent" });
  });
});

describe("the status line under Sync now and Retry failed", () => {
  it("shows the answer to the last press, across the two buttons", () => {
    let sync = { seq: 0, message: "" };
    let retry = { seq: 0, message: "" };
    expect(latestAnswer(sync, retry)).toBe(sync);
    sync = { seq: nextSeq(sync.seq, 1_000), message: "sync 1" };
    retry = { seq: nextSeq(retry.seq, 2_000), message: "retry 1" };
    expect(latestAnswer(sync, retry).message).toBe("retry 1");
    retry = { seq: nextSeq(retry.seq, 3_000), message: "retry 2" };
    sync = { seq: nextSeq(sync.seq, 4_000), message: "sync 2" };
    expect(latestAnswer(sync, retry).message).toBe("sync 2");
    // Two answers in one millisecond still count up.
    expect(nextSeq(4_000, 4_000)).toBe(4_001);
  });
});

describe("teachers' words: no HTTP codes, no engine terms (issue 12)", () => {
  it("credits an operator's CLI run to the school's administrator and says when counts are every course's", () => {
    const cli = runWords({ kind: "push-grades", trigger: "cli", counts: { sent: 312, skipped: 4 }, wholeSchool: true });
    expect(`${cli.kind} (${cli.trigger})`).toBe("Grade sync (started by your school's administrator)");
    expect(cli.counts).toBe("312 sent, 4 not sent across all courses");
    expect(runWords({ kind: "refresh-rosters", trigger: "cli", counts: {} }).trigger).toBe("started by your school's administrator");
    // A course's own run says what is left waiting; an unknown kind never shows the engine's name.
    expect(runWords({ kind: "push-grades", trigger: "manual", counts: { sent: 1, pending: 2, unreachable: 2 } }).counts).toBe("1 sent, your LMS could not be reached, 2 still waiting");
    expect(runWords({ kind: "push-context", trigger: "manual", counts: {} }).kind).toBe("Grade sync");
  });

  it("says an attempt's outcome without its HTTP status; the operator's words keep it", () => {
    expect(attemptWords({ outcome: "sent", httpStatus: 204 })).toBe("sent");
    expect(attemptWords({ outcome: "skipped", httpStatus: 422 })).toBe("not taken by your LMS");
    expect(attemptWords({ outcome: "retry_later", httpStatus: 503 })).toBe("your LMS was busy; Gradesync tries again");
    for (const outcome of ["sent", "skipped", "retry_later", "needs_relaunch", "missing", "failed", "overridden", "something_new"])
      expect(attemptWords({ outcome, httpStatus: 500 })).not.toMatch(/HTTP|\d{3}|_/);
    expect(attemptWords({ outcome: "sent", httpStatus: 204 }, "admin")).toBe("sent (HTTP 204)");
    expect(attemptWords({ outcome: "retry_later", httpStatus: 503 }, "admin")).toBe("retry later (HTTP 503)");
  });

  it("never advises a test student's row to check enrolment, whatever the LMS answered", () => {
    for (const reason of ["not_gradable: HTTP 422", "not_gradable: User is not a student", null]) {
      const e = explain("skipped", reason, { testUser: true, kind: "learner", status: "Active" });
      expect(e.words).toContain("test student");
      expect(e.action).toBe("Nothing to do.");
      expect(`${e.words} ${e.action}`).not.toMatch(/enrol/i);
    }
    // Found only through the class list (the row's member facts unknown at first): the same words.
    const viaList = withClassList(explain("skipped", "not_gradable: x"), "a test user");
    expect(viaList.action).toBe("Nothing to do.");
    expect(viaList.words).not.toMatch(/enrol/i);
    // Someone who left or teaches: nothing to check either.
    expect(withClassList(explain("skipped", "not_gradable: x"), "left the course").action).not.toMatch(/enrol/i);
    expect(withClassList(explain("skipped", "not_gradable: x"), "not a learner in this course").action).not.toMatch(/enrol/i);
  });

  it("points a grade set by hand to the page's Changed in your gradebook section; the operator hears of the teacher's page", () => {
    const e = explain("overridden", "overridden");
    expect(e.action).toContain("Send Gradesync's score under Changed in your gradebook");
    expect(e.action).not.toMatch(/enter it in your gradebook/i);
    expect(explain("overridden", "overridden", null, "admin").action).toContain("teacher can send Gradesync's score");
    // The operator sees the engine's code; the teacher never does.
    expect(explain("pending", "retry_later: HTTP 503", null, "admin").words).toContain("(retry_later: HTTP 503)");
    expect(explain("pending", "retry_later: HTTP 503").words).not.toContain("HTTP");
  });
});
