/** Admin sign-in slowing, on a fake clock: per address, in total, in parallel, and never a lockout. */
import { describe, expect, it } from "vitest";
import { CHECK_TIMEOUT_MS, clientAddress, clientDelayMs, MAX_CLIENTS, MEMORY_MS, SignInThrottle, TOTAL_MAX_MS, totalDelayMs } from "@/lib/sign-in-throttle";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** One attempt that fails (or succeeds) at once; the verdict's wait, or 0 when it was checked. */
function tryOnce(th: SignInThrottle, address: string, success = false): number {
  const v = th.attempt(address);
  if (!v.ok) return v.retryAfterSeconds;
  v.done(success);
  return 0;
}

describe("SignInThrottle", () => {
  it("lets a typo through free, then makes an address wait 1 s, 2 s, 4 s … up to 60 s", () => {
    expect([1, 2, 3, 4, 5, 8, 20].map(clientDelayMs)).toEqual([0, 1_000, 2_000, 4_000, 8_000, 60_000, 60_000]);
    const c = clock();
    const th = new SignInThrottle({ now: c.now, trustedAddresses: true });
    expect(tryOnce(th, "a")).toBe(0);
    expect(tryOnce(th, "a")).toBe(0); // the typo cost nothing
    expect(tryOnce(th, "a")).toBe(1); // now one second
    c.advance(1_000);
    expect(tryOnce(th, "a")).toBe(0);
    expect(tryOnce(th, "a")).toBe(2);
  });

  it("checks one of 20 parallel guesses from one address", () => {
    const th = new SignInThrottle({ now: clock().now, trustedAddresses: true });
    const verdicts = Array.from({ length: 20 }, () => th.attempt("a"));
    expect(verdicts.filter((v) => v.ok)).toHaveLength(1);
  });

  it("bounds guesses from many addresses in total, and never holds back an address with no failure (where addresses are trusted)", () => {
    expect([10, 11, 20, 500].map(totalDelayMs)).toEqual([0, 100, 1_000, TOTAL_MAX_MS]);
    const c = clock();
    const th = new SignInThrottle({ now: c.now, trustedAddresses: true });
    for (let i = 0; i < 50; i++) tryOnce(th, `attacker-${i}`);
    // An attacker's address that failed before is held by the total…
    c.advance(1_000);
    expect(tryOnce(th, "attacker-1")).toBeGreaterThan(0);
    // …the operator's, never seen failing, is not: an attacker cannot keep them out.
    expect(tryOnce(th, "operator", true)).toBe(0);
  });

  it("where addresses are only a hint (off Vercel), the total holds every attempt, at most 10 s at a time", () => {
    const c = clock();
    const th = new SignInThrottle({ now: c.now, trustedAddresses: false });
    const parallel = Array.from({ length: 20 }, (_, i) => th.attempt(`spoofed-${i}`));
    expect(parallel.filter((v) => v.ok)).toHaveLength(11); // 10 free, then the total counts
    for (let i = 0; i < 500; i++) th.attempt(`more-${i}`);
    const wait = th.attempt("operator");
    expect(wait.ok).toBe(false);
    expect(!wait.ok && wait.retryAfterSeconds).toBeLessThanOrEqual(TOTAL_MAX_MS / 1000);
    c.advance(TOTAL_MAX_MS);
    expect(tryOnce(th, "operator", true)).toBe(0);
  });

  it("forgets an address after 15 quiet minutes, forgets a success at once, and never locks on a lost settle", () => {
    const c = clock();
    const th = new SignInThrottle({ now: c.now, trustedAddresses: true });
    tryOnce(th, "a");
    tryOnce(th, "a");
    expect(tryOnce(th, "a")).toBeGreaterThan(0);
    c.advance(MEMORY_MS + 1);
    expect(tryOnce(th, "a")).toBe(0);
    expect(tryOnce(th, "a", true)).toBe(0);
    expect(tryOnce(th, "a")).toBe(0); // after a success the next failure is a first one again
    const lost = th.attempt("b"); // never settled
    expect(lost.ok).toBe(true);
    expect(th.attempt("b").ok).toBe(false);
    c.advance(CHECK_TIMEOUT_MS);
    expect(th.attempt("b").ok).toBe(true);
  });

  it("keeps at most MAX_CLIENTS addresses", () => {
    const th = new SignInThrottle({ now: clock().now, trustedAddresses: true });
    for (let i = 0; i < MAX_CLIENTS + 50; i++) tryOnce(th, `x-${i}`);
    expect((th as unknown as { clients: Map<string, unknown> }).clients.size).toBe(MAX_CLIENTS);
  });
});

describe("clientAddress", () => {
  const h = (v: Record<string, string>) => new Headers(v);
  it("takes the first X-Forwarded-For entry and keys IPv6 clients by their /64", () => {
    expect(clientAddress(h({ "x-forwarded-for": "203.0.113.7, 10.0.0.1" }))).toBe("203.0.113.7");
    expect(clientAddress(h({ "x-forwarded-for": "::ffff:203.0.113.7" }))).toBe("203.0.113.7");
    expect(clientAddress(h({ "x-forwarded-for": "2001:db8:1:2:aaaa::1" }))).toBe("2001:db8:1:2::/64");
    expect(clientAddress(h({ "x-forwarded-for": "2001:db8:1:2:ffff:ffff:ffff:ffff" }))).toBe("2001:db8:1:2::/64");
    expect(clientAddress(h({ "x-real-ip": "198.51.100.1" }))).toBe("198.51.100.1");
    expect(clientAddress(h({}))).toBe("unknown");
  });
});
