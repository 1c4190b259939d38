/**
 * One alert as the JSON POSTed to ALERT_WEBHOOK_URL. Every message carries the fields the README documents
 * (`text`, `condition`, `cleared`, `platformId`, `contextId`, `resourceLinkId`, `adminUrl`) for any
 * receiver; what else it carries depends on where it goes, because the chat tools disagree:
 * - Slack incoming webhooks render `text` (mrkdwn, `<url|label>` links) and `blocks`, and refuse
 *   `attachments` they do not know (`invalid_attachments`), so Slack gets no Teams card.
 * - Teams: the Workflows webhook ("When a Teams webhook request is received") posts the Adaptive Cards
 *   of `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",…}]}`
 *   and ignores `text`; the retired Office 365 connector took that same form (and `text`).
 * - Anything else (a generic receiver) gets the plain fields only.
 * Which one a URL is comes from its host alone. Words from the LMS (titles, ids) are escaped for the
 * receiver's markup, so a course called `<!channel>` pings nobody.
 */
import type { AlertCondition, AlertDetail, AlertTarget } from "./conditions";

export type Receiver = "slack" | "teams" | "generic";

const SLACK_HOSTS = new Set(["hooks.slack.com", "hooks.slack-gov.com"]);
// Workflows (Power Automate, old and new hosts) and the Office 365 connector.
const TEAMS_HOST = /(^|\.)(logic\.azure\.com|powerplatform\.com|webhook\.office\.com|outlook\.office\.com|outlook\.office365\.com)$/i;

/** Which kind of receiver a webhook URL is (only its host is looked at). */
export function receiverOf(webhookUrl: string): Receiver {
  if (!URL.canParse(webhookUrl)) return "generic";
  const host = new URL(webhookUrl).hostname.toLowerCase();
  if (SLACK_HOSTS.has(host)) return "slack";
  if (TEAMS_HOST.test(host)) return "teams";
  return "generic";
}

/** APP_URL (or Vercel's URL), else the request's origin, else a relative link. */
export function adminUrlFor(opts: { appUrl?: string; origin?: string }): string {
  const base = opts.appUrl ?? (opts.origin && URL.canParse(opts.origin) ? new URL(opts.origin).origin : undefined);
  return base ? `${base.replace(/\/+$/, "")}/admin` : "/admin";
}

export interface AlertNotice {
  condition: AlertCondition;
  /** The message that says it is over. */
  cleared: boolean;
  target: AlertTarget;
  detail: AlertDetail;
}

export interface AlertMessage {
  text: string;
  condition: AlertCondition;
  cleared: boolean;
  platformId: string | null;
  contextId: string | null;
  resourceLinkId: string | null;
  adminUrl: string;
  [extra: string]: unknown;
}

/** LMS-given words in a sentence: one line, bounded. */
function words(s: string | null | undefined, max = 80): string {
  const one = (s ?? "").replace(/[\p{Cc}\p{Zl}\p{Zp}\s]+/gu, " ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

const num = (d: AlertDetail, k: string) => (typeof d[k] === "number" ? (d[k] as number) : 0);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function duration(minutes: number): string {
  if (minutes < 60) return plural(minutes, "minute");
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m ? `${plural(h, "hour")} ${plural(m, "minute")}` : plural(h, "hour");
}

/** A sentence in pieces: text we wrote, and LMS-given words (escaped by each receiver's rules). */
type Piece = string | { lms: string };

function where(t: AlertTarget): Piece[] {
  const ids = [t.platformId, t.contextId, t.resourceLinkId].filter((x): x is string => Boolean(x)).map((x) => words(x, 60));
  const title = words(t.title);
  const out: Piece[] = [];
  if (title) out.push("“", { lms: title }, "” ");
  if (ids.length) out.push("(", { lms: ids.join(" / ") }, ")");
  return out.length ? out : ["(unnamed)"];
}

/** What happened, in an operator's words. */
function sentence(n: AlertNotice): Piece[] {
  const t = n.target;
  const d = n.detail;
  const limit = num(d, "limitMinutes");
  switch (n.condition) {
    case "needs_relaunch":
      return n.cleared
        ? ["Relaunched: ", ...where(t), ". Its service key works again."]
        : ["Needs a relaunch: ", ...where(t), ". LTIAAS refused its service key; its scores wait until a teacher opens the activity from the LMS."];
    case "failing": {
      if (n.cleared) return ["No longer failing: ", ...where(t), "."];
      const missing = num(d, "driftMissing");
      const why =
        [
          num(d, "failed") > 0 ? `${plural(num(d, "failed"), "score")} failed` : "",
          d.columnMissing ? "its gradebook column is missing" : "",
          missing > 0 ? `${plural(missing, "score")} sent earlier ${missing === 1 ? "is" : "are"} missing from the LMS` : "",
        ]
          .filter(Boolean)
          .join("; ") || "scores failed";
      return ["Failing: ", ...where(t), `. ${why[0].toUpperCase()}${why.slice(1)}.`];
    }
    case "overridden":
      return n.cleared
        ? ["No grade set by hand any more: ", ...where(t), "."]
        : ["Grades set by hand: ", ...where(t), `. ${plural(num(d, "overridden"), "grade")} set by a person in the LMS; Gradesync keeps them and does not send over them.`];
    case "pending_too_long":
      return n.cleared
        ? ["Caught up: ", ...where(t), `. No score has waited longer than ${plural(limit, "minute")}.`]
        : ["Pending too long: ", ...where(t), `. ${plural(num(d, "pending"), "score")} waiting, the oldest for ${duration(num(d, "waitedMinutes"))} (the limit is ${plural(limit, "minute")}).`];
    case "run_failed": {
      const of: Piece[] = [{ lms: words(t.kind, 40) || "a" }, " run", ...(t.contextId ? [" for ", ...where(t)] : [])];
      if (n.cleared) return ["Runs recovered: a later ", ...of, " did not fail."];
      const error = typeof d.error === "string" && d.error ? [" (", { lms: words(d.error, 200) }, ")"] : [];
      return ["Run failed: a ", ...of, " ended failed", ...error, "."];
    }
    case "throttled":
      return n.cleared
        ? ["No longer throttled: ", ...where(t), "."]
        : ["Throttled: ", ...where(t), `. The LMS refused requests for throttling in ${plural(num(d, "minutes"), "minute")} of the last hour; Gradesync slowed down for it.`];
  }
}

const slackEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
// Teams renders Markdown: an LMS title must not become a link or a heading.
const markdownEscape = (s: string) => s.replace(/[\\`*_[\]()#<>!|~]/g, (c) => `\\${c}`);

const render = (pieces: Piece[], escape: (s: string) => string) => pieces.map((p) => (typeof p === "string" ? p : escape(p.lms))).join("");

const LINK_LABEL = "Open the operator's page";

/** The JSON body of one alert for this kind of receiver. */
export function alertMessage(n: AlertNotice, opts: { adminUrl: string; receiver: Receiver }): AlertMessage {
  const pieces = sentence(n);
  const absolute = /^https?:\/\//i.test(opts.adminUrl);
  const head = n.cleared ? "Gradesync (cleared)" : "Gradesync alert";
  const base = {
    condition: n.condition,
    cleared: n.cleared,
    platformId: n.target.platformId,
    contextId: n.target.contextId,
    resourceLinkId: n.target.resourceLinkId,
    adminUrl: opts.adminUrl,
    details: n.detail,
  };
  if (opts.receiver === "slack") {
    const body = render(pieces, slackEscape);
    const link = absolute ? `<${opts.adminUrl}|${LINK_LABEL}>` : `Operator's page: ${slackEscape(opts.adminUrl)}`;
    const text = `*${head}* — ${body} ${link}`;
    return { text, ...base, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] };
  }
  if (opts.receiver === "teams") {
    const body = render(pieces, markdownEscape);
    const text = `**${head}** — ${body}${absolute ? ` [${LINK_LABEL}](${opts.adminUrl})` : ` Operator's page: ${opts.adminUrl}`}`;
    const card = {
      $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
      type: "AdaptiveCard",
      version: "1.4",
      msteams: { width: "Full" },
      body: [
        { type: "TextBlock", text: head, weight: "Bolder", color: n.cleared ? "Good" : "Attention", wrap: true },
        { type: "TextBlock", text: body, wrap: true },
        ...(absolute ? [] : [{ type: "TextBlock", text: `Operator's page: ${opts.adminUrl}`, wrap: true, isSubtle: true }]),
      ],
      ...(absolute ? { actions: [{ type: "Action.OpenUrl", title: LINK_LABEL, url: opts.adminUrl }] } : {}),
    };
    return {
      text,
      ...base,
      type: "message",
      attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null, content: card }],
    };
  }
  return { text: `${head} — ${render(pieces, (s) => s)} ${LINK_LABEL}: ${opts.adminUrl}`, ...base };
}
