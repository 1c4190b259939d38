/** The teacher page's one-line answer: the most blocking cause first, never a false "press Sync now". */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Verdict } from "@/app/contexts/[id]/verdict";
import type { ResourceLinkView } from "@/lib/contexts/queries";

function view(over: { key?: ResourceLinkView["key"]["state"]; lineItem?: ResourceLinkView["lineItem"]["state"]; counts?: Partial<ResourceLinkView["counts"]> }): ResourceLinkView {
  return {
    id: crypto.randomUUID(),
    contextRef: crypto.randomUUID(),
    title: "Lab 1",
    resourceLinkId: "rl",
    launchLineItemId: null,
    course: { id: crypto.randomUUID(), contextId: "c", title: "Biology", label: null },
    platform: { platformId: "p", name: null, url: null, productFamilyCode: null },
    key: { state: over.key ?? "active", lastLaunchAt: null, capturedAt: null, stateReason: null },
    lineItem: { id: null, state: over.lineItem ?? "ok", checkedAt: null },
    counts: { pending: 0, sent: 0, skipped: 0, failed: 0, oldestPendingAt: null, ...over.counts },
    roster: { refreshedAt: null, members: 0, activeLearners: 0 },
  };
}

const say = (v: ResourceLinkView) => renderToStaticMarkup(createElement(Verdict, { view: v }));

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
