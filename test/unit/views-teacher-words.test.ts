/** Words on the teacher page: the one-line verdict (most blocking cause first, never a false "press Sync now") and the recent runs. */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { latestAnswer, nextSeq } from "@/app/contexts/[id]/answers";
import { Verdict } from "@/app/contexts/[id]/verdict";
import type { LinkState } from "@/lib/links/state";
import { runWords } from "@/lib/views/reasons";

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
    expect(runWords({ kind: "backfill", trigger: "manual", counts: { sent: 3 } })).toMatchObject({ trigger: "by an operator", counts: "3 sent" });
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
