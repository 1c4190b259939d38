/**
 * The origins that may frame the tool's LTI pages come from the LMS (the idtoken's platform URL and
 * return URL) and end up in a Content-Security-Policy header. Only a plain origin may: `https` with a
 * host name, IPv4 or bracketed IPv6 address (and an optional port), or `http` on a loopback host
 * (the bundled LMS simulator). Anything else — a `;` that would start another directive, a space, a
 * wildcard, a quote — frames for nobody but the tool itself ('self').
 */
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);
// Labels of letters, digits and inner hyphens (IDNs arrive as punycode from URL parsing).
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;

function validHost(hostname: string): boolean {
  const v4 = IPV4.exec(hostname);
  if (v4) return v4.slice(1).every((n) => Number(n) <= 255);
  return HOST_NAME.test(hostname) || IPV6.test(hostname);
}

/** The URL's origin if it may be named in frame-ancestors, else undefined. */
export function frameAncestorOrigin(url: string | undefined | null): string | undefined {
  if (!url || url.length > 2048) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const https = u.protocol === "https:";
  const loopbackHttp = u.protocol === "http:" && LOOPBACK.has(u.hostname);
  if (!(https || loopbackHttp) || !validHost(u.hostname)) return undefined;
  if (u.port && !/^\d{1,5}$/.test(u.port)) return undefined;
  const origin = `${u.protocol}//${u.host}`;
  // Belt and braces: whatever URL parsing let through, the header sees nothing but this shape.
  return /^https?:\/\/[a-z0-9.\-[\]:]+$/.test(origin) ? origin : undefined;
}

/** The frame-ancestors directive for a session's LMS origins (each re-checked: sessions outlive code). */
export function frameAncestors(lmsOrigins: readonly string[], extra: readonly string[] = []): string {
  const allowed = lmsOrigins.map((o) => frameAncestorOrigin(o)).filter((o): o is string => Boolean(o));
  return `frame-ancestors ${["'self'", ...new Set(allowed), ...extra].join(" ")}`;
}
