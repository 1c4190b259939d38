/**
 * POSTs one message to ALERT_WEBHOOK_URL. The URL is a secret (whoever has it posts to the channel):
 * what goes wrong is described by status, error name and code only, and even that passes through
 * `redact` — undici and Node may quote the URL in messages and causes, which are never kept.
 * undici's `request`, not `fetch`: Next patches the global `fetch` and may log what it fetches.
 */
import { request } from "undici";
import { describeError } from "../log";
import { redact } from "../ltiaas/errors";

export type Delivery = { ok: true; status: number } | { ok: false; status?: number; error: string };

export const DELIVERY_TIMEOUT_MS = 5_000;

/** The URL and the parts of it that are secret on their own (a Slack URL's path, a query's signature). */
export function secretParts(url: string): string[] {
  if (!URL.canParse(url)) return [url];
  const u = new URL(url);
  return [url, u.pathname.length > 1 ? u.pathname : "", u.search.length > 1 ? u.search.slice(1) : ""].filter(Boolean);
}

/** The cause's code too (`fetch`/`connect` errors put ECONNREFUSED there), redacted. */
export function describeDeliveryError(error: unknown, url: string): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const code = (error as { code?: unknown } | null)?.code ?? (cause as { code?: unknown } | null)?.code;
  const base = describeError(error);
  const withCode = typeof code === "string" && /^[A-Z0-9_]{2,40}$/.test(code) && !base.includes(code) ? `${base} (${code})` : base;
  return redact(withCode, secretParts(url));
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
