/**
 * What an alert looks like to its receiver: the contract's fields for everyone; Slack's `text` and
 * `blocks` (mrkdwn, `<url|label>`), Teams' Adaptive Card envelope (`type: message`, `attachments`),
 * plain fields elsewhere; LMS words escaped for each markup. And what a failed delivery logs: never
 * the URL or its secret parts.
 */
import { describe, expect, it } from "vitest";
import { describeDeliveryError, secretParts } from "@/lib/alerts/deliver";
import { adminUrlFor, alertMessage, receiverOf, type AlertNotice } from "@/lib/alerts/message";
import { ALERT_CONDITIONS, type AlertCondition } from "@/lib/alerts/conditions";

const SLACK = "https://hooks.slack.com/services/T000AAAA/B000BBBB/XXXXsecretXXXXtoken";
const TEAMS_WORKFLOW =
  "https://prod-12.westeurope.logic.azure.com:443/workflows/0123abcd/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=S1gnatureS3cretValue0123";
const TEAMS_NEW = "https://default0123.ab.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?sig=abc12345678";
const TEAMS_CONNECTOR = "https://contoso.webhook.office.com/webhookb2/aaaa@bbbb/IncomingWebhook/cccc/dddd";
const ADMIN = "https://grades.example.edu/admin";

const link = { platformId: "https://canvas.example.edu", contextId: "course-7", resourceLinkId: "link-3", title: "Lab 1" };
const notice = (condition: AlertCondition, cleared = false, extra: Partial<AlertNotice> = {}): AlertNotice => ({
  condition,
  cleared,
  target: link,
  detail: { failed: 2, columnMissing: false, driftMissing: 0, overridden: 3, pending: 4, waitedMinutes: 185, limitMinutes: 120, minutes: 17, error: "LtiaasError", runId: "r" },
  ...extra,
});

describe("which receiver a URL is", () => {
  it("Slack by its hooks host, Teams by Workflows and connector hosts, anything else generic", () => {
    expect(receiverOf(SLACK)).toBe("slack");
    expect(receiverOf(TEAMS_WORKFLOW)).toBe("teams");
    expect(receiverOf(TEAMS_NEW)).toBe("teams");
    expect(receiverOf(TEAMS_CONNECTOR)).toBe("teams");
    expect(receiverOf("https://alerts.example.com/hooks/slack.com")).toBe("generic");
    expect(receiverOf("https://hooks.slack.com.evil.example/services/x")).toBe("generic");
    expect(receiverOf("http://127.0.0.1:4000/hook")).toBe("generic");
  });
});

describe("the link to /admin", () => {
  it("APP_URL (or Vercel's URL), else the request's origin, else relative", () => {
    expect(adminUrlFor({ appUrl: "https://grades.example.edu", origin: "http://10.0.0.1:3000" })).toBe(ADMIN);
    expect(adminUrlFor({ appUrl: "https://example.edu/gradesync/" })).toBe("https://example.edu/gradesync/admin");
    expect(adminUrlFor({ origin: "http://localhost:3000/api/cron/grades" })).toBe("http://localhost:3000/admin");
    expect(adminUrlFor({})).toBe("/admin");
  });
});

describe("every message", () => {
  it.each(["slack", "teams", "generic"] as const)("%s: carries the contract's fields", (receiver) => {
    const m = alertMessage(notice("failing"), { adminUrl: ADMIN, receiver });
    expect(m).toMatchObject({ condition: "failing", cleared: false, ...{ platformId: link.platformId, contextId: link.contextId, resourceLinkId: link.resourceLinkId }, adminUrl: ADMIN });
    expect(m.text).toEqual(expect.any(String));
    expect(m.text).toContain("Lab 1");
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });

  it("a platform-wide condition has no context or link", () => {
    const m = alertMessage(notice("throttled", false, { target: { platformId: "p1", contextId: null, resourceLinkId: null, title: "Canvas" } }), { adminUrl: ADMIN, receiver: "generic" });
    expect(m).toMatchObject({ condition: "throttled", platformId: "p1", contextId: null, resourceLinkId: null });
    expect(m.text).toContain("17 minutes of the last hour");
  });

  it("says what happened for each condition, raised and cleared", () => {
    const said = (c: AlertCondition, cleared = false) => alertMessage(notice(c, cleared), { adminUrl: ADMIN, receiver: "generic" }).text;
    expect(said("needs_relaunch")).toMatch(/Needs a relaunch: “Lab 1” \(https:\/\/canvas.example.edu \/ course-7 \/ link-3\)\. LTIAAS refused its service key/);
    expect(said("failing")).toContain("2 scores failed");
    expect(alertMessage(notice("failing", false, { detail: { failed: 0, columnMissing: true, driftMissing: 1 } }), { adminUrl: ADMIN, receiver: "generic" }).text).toContain(
      "Its gradebook column is missing; 1 score sent earlier is missing from the LMS.",
    );
    expect(said("overridden")).toContain("3 grades set by a person in the LMS");
    expect(said("pending_too_long")).toContain("4 scores waiting, the oldest for 3 hours 5 minutes (the limit is 120 minutes)");
    const run = alertMessage(notice("run_failed", false, { target: { platformId: null, contextId: null, resourceLinkId: null, title: null, kind: "push-grades" } }), { adminUrl: ADMIN, receiver: "generic" });
    expect(run.text).toContain("Run failed: a push-grades run ended failed (LtiaasError).");
    expect(run).toMatchObject({ platformId: null, contextId: null, resourceLinkId: null });
    for (const c of ALERT_CONDITIONS) {
      expect(said(c)).toMatch(/^Gradesync alert — /);
      expect(said(c, true)).toMatch(/^Gradesync \(cleared\) — /);
      expect(said(c, true)).not.toBe(said(c));
      expect(said(c)).toContain(`Open the operator's page: ${ADMIN}`);
    }
  });
});

describe("Slack", () => {
  it("gets mrkdwn text with a <url|label> link and a section block, and no attachments (Slack refuses unknown ones)", () => {
    const m = alertMessage(notice("needs_relaunch"), { adminUrl: ADMIN, receiver: "slack" });
    expect(m.text).toContain(`<${ADMIN}|Open the operator's page>`);
    expect(m.text).toMatch(/^\*Gradesync alert\* — /);
    expect(m.blocks).toEqual([{ type: "section", text: { type: "mrkdwn", text: m.text } }]);
    expect(m.attachments).toBeUndefined();
    expect(m.type).toBeUndefined();
  });

  it("escapes LMS words so they cannot ping or link (&, <, >)", () => {
    const m = alertMessage(notice("failing", false, { target: { ...link, title: "<!channel> & <https://evil.example|click>" } }), { adminUrl: ADMIN, receiver: "slack" });
    expect(m.text).toContain("&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;");
    expect(m.text).not.toContain("<!channel>");
  });

  it("a relative link is shown as text (Slack links need a URL)", () => {
    const m = alertMessage(notice("failing"), { adminUrl: "/admin", receiver: "slack" });
    expect(m.text).toContain("Operator's page: /admin");
    expect(m.text).not.toContain("<");
  });
});

describe("Teams", () => {
  it("gets the Adaptive Card envelope Workflows posts, with a button to /admin", () => {
    const m = alertMessage(notice("pending_too_long"), { adminUrl: ADMIN, receiver: "teams" });
    expect(m.type).toBe("message");
    const attachments = m.attachments as { contentType: string; contentUrl: null; content: Record<string, unknown> }[];
    expect(attachments).toHaveLength(1);
    expect(attachments[0]).toMatchObject({ contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null });
    const card = attachments[0].content as { type: string; version: string; body: { type: string; text: string }[]; actions: unknown[] };
    expect(card).toMatchObject({ type: "AdaptiveCard", $schema: "http://adaptivecards.io/schemas/adaptive-card.json" });
    expect(Number(card.version)).toBeLessThanOrEqual(1.5);
    expect(card.body.every((b) => b.type === "TextBlock")).toBe(true);
    expect(card.body.map((b) => b.text).join(" ")).toContain("4 scores waiting");
    expect(card.actions).toEqual([{ type: "Action.OpenUrl", title: "Open the operator's page", url: ADMIN }]);
    // The connector and generic readers get a Markdown text with the link.
    expect(m.text).toContain(`[Open the operator's page](${ADMIN})`);
    expect(m.blocks).toBeUndefined();
  });

  it("escapes LMS words for Markdown, and drops the button for a relative link (it needs a URL)", () => {
    const m = alertMessage(notice("failing", false, { target: { ...link, title: "[click](https://evil.example) **now**" } }), { adminUrl: "/admin", receiver: "teams" });
    expect(m.text).toContain("\\[click\\]\\(https://evil.example\\) \\*\\*now\\*\\*");
    const card = (m.attachments as { content: { actions?: unknown; body: { text: string }[] } }[])[0].content;
    expect(card.actions).toBeUndefined();
    expect(card.body.map((b) => b.text).join(" ")).toContain("/admin");
  });
});

describe("a generic receiver", () => {
  it("gets the plain fields only, the link in the text", () => {
    const m = alertMessage(notice("overridden", true), { adminUrl: ADMIN, receiver: "generic" });
    expect(Object.keys(m).sort()).toEqual(["adminUrl", "cleared", "condition", "contextId", "details", "platformId", "resourceLinkId", "text"]);
    expect(m.text).toContain(ADMIN);
  });

  it("LMS words are one line, bounded", () => {
    const m = alertMessage(notice("failing", false, { target: { ...link, title: `A\nB\u2028C${"x".repeat(500)}` } }), { adminUrl: ADMIN, receiver: "generic" });
    expect(m.text).not.toMatch(/[\n\u2028]/);
    expect(m.text.length).toBeLessThan(400);
  });
});

describe("what a failed delivery logs", () => {
  it("names the error and its code, never the URL or its secret parts, whatever their form", () => {
    for (const url of [SLACK, TEAMS_WORKFLOW]) {
      const u = new URL(url);
      const cause = Object.assign(new Error(`connect ECONNREFUSED while posting to ${url}`), { code: "ECONNREFUSED" });
      const quoted = [
        new TypeError(`fetch failed: ${url}`, { cause }),
        new Error(`POST ${u.pathname}${u.search} refused`),
        new Error(`bad url ${encodeURIComponent(url)}`),
        new Error(`token ${u.pathname.split("/").at(-1)} sig ${u.searchParams.get("sig")}`),
      ];
      for (const error of quoted) {
        const said = describeDeliveryError(error, url);
        expect(said).toMatch(/^(TypeError|Error)/);
        for (const secret of secretParts(url)) expect(said).not.toContain(secret);
        expect(said).not.toContain(encodeURIComponent(url));
        if (u.searchParams.get("sig")) expect(said).not.toContain(u.searchParams.get("sig"));
      }
      expect(describeDeliveryError(quoted[0], url)).toContain("(ECONNREFUSED)");
    }
  });

  it("a long message is cut after the URL is replaced, so no part of it is left", () => {
    // Cut at 200 characters, the message would end inside the token.
    const pad = 199 - SLACK.indexOf("XXXXsecret") - 12;
    const said = describeDeliveryError(new Error(`${"x".repeat(pad)}${SLACK}`), SLACK);
    expect(said).toContain("[redacted]");
    expect(said).not.toMatch(/XXXX/);
  });
});
