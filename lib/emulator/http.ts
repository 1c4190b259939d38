/** Response helpers in LTIAAS's shapes. */

const REASON: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

export function noContent(): Response {
  return new Response(null, { status: 204 });
}

/** `{"status":401,"error":"Unauthorized","details":{"message":"…","description":"…"}}` */
export function ltiaasError(
  status: number,
  message: string,
  description?: string,
  headers: Record<string, string> = {},
): Response {
  const details: Record<string, string> = { message };
  if (description) details.description = description;
  return json({ status, error: REASON[status] ?? "Error", details }, status, headers);
}

/** A gateway's own page: a body that is not LTIAAS-shaped, as a proxy in front of an LMS sends. */
export function gatewayPage(status: number): Response {
  const text = `${status} ${REASON[status] ?? "Error"}`;
  return new Response(`<html><head><title>${text}</title></head><body><h1>${text}</h1></body></html>`, {
    status,
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

export function htmlPage(body: string, status = 200): Response {
  return new Response(body, {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      // The page's iframe URL carries an ltik: keep it out of Referer headers.
      "referrer-policy": "no-referrer",
    },
  });
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** encodeURIComponent throws on a lone surrogate, which an LMS's id may hold: U+FFFD stands in. */
export const urlPart = (s: string) => encodeURIComponent(s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD"));
