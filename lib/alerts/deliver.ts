/**
 * POSTs one message to ALERT_WEBHOOK_URL. The URL is a secret (whoever has it posts to the channel):
 * what goes wrong is described by status, or by the error's name, code and message passed through
 * `redact` (as LTIAAS secrets are): undici and Node may quote the URL in messages and causes.
 * undici's `request`, not `fetch`: Next patches the global `fetch` and may log what it fetches.
 */
import { request } from "undici";
import { describeError, errorFields } from "../log";
import { redact } from "../ltiaas/errors";

export type Delivery = { ok: true; status: number } | { ok: false; status?: number; error: string };

export const DELIVERY_TIMEOUT_MS = 5_000;

/**
 * The URL and the parts of it that are secret on their own: a Slack URL's path, a Teams Workflows
 * URL's query and its signature (`sig=…`), each path segment long enough to be a token.
 */
export function secretParts(url: string): string[] {
  if (!URL.canParse(url)) return [url];
  const u = new URL(url);
  const parts = [url, u.pathname.length > 1 ? u.pathname : "", u.search.length > 1 ? u.search.slice(1) : ""];
  parts.push(...u.pathname.split("/").filter((p) => p.length >= 8));
  for (const v of u.searchParams.values()) if (v.length >= 8) parts.push(v);
  return parts.filter(Boolean);
}

/**
 * What went wrong sending, for the log: the error's name and code, and for a network error its
 * message (and its cause's: "connect ECONNREFUSED 10.0.0.5:443" is what an operator needs) — with
 * the URL and its secret parts replaced, whatever form they take there. A database refusal keeps
 * its SQLSTATE only (its message may quote data).
 */
export function describeDeliveryError(error: unknown, url: string): string {
  const base = describeError(error);
  if (errorFields(error).condition) return redact(base, secretParts(url));
  const cause = (error as { cause?: unknown } | null)?.cause;
  const code = (error as { code?: unknown } | null)?.code ?? (cause as { code?: unknown } | null)?.code;
  const head = typeof code === "string" && /^[A-Z0-9_]{2,40}$/.test(code) && !base.includes(code) ? `${base} (${code})` : base;
  const messages = [error, cause]
    .map((e) => (e instanceof Error ? e.message.replace(/\s+/g, " ").trim() : ""))
    .filter((m, i, all) => m && all.indexOf(m) === i);
  // Redacted before it is cut short: a cut could leave part of a secret the redaction no longer matches.
  const said = redact(messages.join(" ← "), secretParts(url));
  return said ? `${redact(head, secretParts(url))}: ${said.length > 200 ? `${said.slice(0, 199)}…` : said}` : redact(head, secretParts(url));
}

export async function deliver(url: string, body: unknown, timeoutMs = DELIVERY_TIMEOUT_MS): Promise<Delivery> {
  try {
    const res = await request(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "Gradesync-alerts" },
      body: JSON.stringify(body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    // Read to the end so the connection goes back to the pool; what it says is not kept.
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode };
    return { ok: false, status: res.statusCode, error: `HTTP ${res.statusCode}` };
  } catch (error) {
    return { ok: false, error: describeDeliveryError(error, url) };
  }
}
