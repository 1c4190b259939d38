/**
 * Slows failed admin sign-ins down, per client address and in total, and never locks anyone out:
 * - each failure after an address's first (a typo is free) pushes back when it may try again:
 *   1 s, 2 s, 4 s … up to 60 s;
 * - past the first 10 failures in the last 15 minutes from anywhere, each adds 100 ms (up to 10 s)
 *   to the time before any address with a failure on record may try again, which bounds guesses
 *   made from many addresses.
 * An attempt made too early is not checked at all (the answer says when to come back); while one
 * attempt of an address is being checked, its others wait, and every attempt counts towards the
 * total until it succeeds, so parallel guesses gain nothing.
 *
 * Where the address is the platform's word (Vercel sets X-Forwarded-For itself), an address with no
 * failure on record is never held back by others' failures: an attacker elsewhere cannot keep the
 * operator out. Elsewhere a client can send any X-Forwarded-For and Next keeps it, so the address is
 * only a hint and the total applies to every attempt: a flood of guesses can then make the operator
 * wait, at most 10 s at a time, but never lock them out.
 *
 * The state lives in this process's memory, bounded to MAX_CLIENTS addresses (the oldest forgotten
 * first): nothing to set up, and a restart forgetting it is harmless (ADMIN_TOKEN has ≥ 16 characters,
 * far beyond guessing at these rates). With several instances each keeps its own, which multiplies
 * the total rate by their number and changes nothing else.
 */
export const CLIENT_BASE_MS = 1_000;
export const CLIENT_MAX_MS = 60_000;
/** Failures in total (recent) before the total starts to slow anyone down. */
export const TOTAL_FREE = 10;
export const TOTAL_STEP_MS = 100;
export const TOTAL_MAX_MS = 10_000;
/** Failures older than this (with none since) are forgotten. */
export const MEMORY_MS = 15 * 60_000;
export const MAX_CLIENTS = 10_000;

/** An attempt still unsettled after this long is taken as failed: a lost settle never locks an address. */
export const CHECK_TIMEOUT_MS = 10_000;

interface Tally {
  failures: number;
  nextAt: number;
  lastAt: number;
}

interface ClientRecord extends Tally {
  /** An attempt of this address is being checked right now. */
  checking: boolean;
}

/** The wait after an address's n-th failure: none after the first, then 1 s, 2 s, 4 s … */
export function clientDelayMs(failures: number): number {
  return failures <= 1 ? 0 : Math.min(CLIENT_BASE_MS * 2 ** (failures - 2), CLIENT_MAX_MS);
}

/** The wait after the n-th recent failure in total, for addresses with a failure on record. */
export function totalDelayMs(failures: number): number {
  return Math.min(TOTAL_STEP_MS * Math.max(0, failures - TOTAL_FREE), TOTAL_MAX_MS);
}

export type SignInVerdict =
  | { ok: true; /** Call once the token was checked. */ done(success: boolean): void }
  | { ok: false; retryAfterSeconds: number };

export interface SignInThrottleOptions {
  now?: () => number;
  /** True where the client address comes from the platform (Vercel), not from the client. */
  trustedAddresses?: boolean;
}

export class SignInThrottle {
  private readonly clients = new Map<string, ClientRecord>();
  private total: Tally = { failures: 0, nextAt: 0, lastAt: 0 };
  private readonly now: () => number;
  private readonly trusted: boolean;

  constructor(opts: SignInThrottleOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.trusted = opts.trustedAddresses ?? false;
  }

  /** May this address try a token now? If so, the attempt counts as a failure until done(true). */
  attempt(address: string): SignInVerdict {
    const now = this.now();
    const key = address || "unknown";
    if (this.total.lastAt + MEMORY_MS < now) this.total = { failures: 0, nextAt: 0, lastAt: 0 };
    let client = this.clients.get(key);
    if (client && client.lastAt + MEMORY_MS < now) {
      this.clients.delete(key);
      client = undefined;
    }
    if (client?.checking && now - client.lastAt < CHECK_TIMEOUT_MS) return { ok: false, retryAfterSeconds: 1 };
    const heldByTotal = client !== undefined || !this.trusted;
    const readyAt = Math.max(client?.nextAt ?? 0, heldByTotal ? this.total.nextAt : 0);
    if (readyAt > now) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((readyAt - now) / 1000)) };

    const failures = (client?.failures ?? 0) + 1;
    const mine: ClientRecord = { failures, nextAt: now + clientDelayMs(failures), lastAt: now, checking: true };
    this.remember(key, mine);
    const before = { ...this.total };
    const totalFailures = this.total.failures + 1;
    this.total = { failures: totalFailures, nextAt: now + totalDelayMs(totalFailures), lastAt: now };
    const provisional = this.total;

    let settled = false;
    return {
      ok: true,
      done: (success: boolean) => {
        if (settled) return;
        settled = true;
        mine.checking = false;
        if (!success) return;
        if (this.clients.get(key) === mine) this.clients.delete(key);
        // Undone only if no other attempt came after it: a later failure keeps its own delay.
        if (this.total === provisional) this.total = before;
      },
    };
  }

  private remember(key: string, record: ClientRecord): void {
    this.clients.delete(key);
    this.clients.set(key, record);
    // Maps iterate in insertion order: the first key is the one untouched for longest.
    while (this.clients.size > MAX_CLIENTS) this.clients.delete(this.clients.keys().next().value!);
  }
}

/**
 * The address to key a client by. On Vercel, X-Forwarded-For is set by the platform (its first
 * entry is the client); elsewhere it is whatever the client or a proxy sent, a hint only. IPv6
 * clients are keyed by their /64, the block one subscriber usually holds.
 */
export function clientAddress(headers: { get(name: string): string | null }): string {
  const first = (headers.get("x-forwarded-for") ?? headers.get("x-real-ip") ?? "").split(",")[0].trim().toLowerCase();
  if (!first) return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(first);
  if (mapped) return mapped[1];
  if (!first.includes(":")) return first.slice(0, 64);
  const groups = expandIpv6(first.replace(/^\[|\]$/g, "").split("%")[0]);
  return groups ? `${groups.slice(0, 4).join(":")}::/64` : first.slice(0, 64);
}

function expandIpv6(address: string): string[] | null {
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const groups = [...head, ...Array<string>(missing).fill("0"), ...tail];
  return groups.every((g) => /^[0-9a-f]{1,4}$/.test(g)) ? groups.map((g) => g.replace(/^0+(?=.)/, "")) : null;
}

const processWide = globalThis as unknown as { __gradesyncSignInThrottle?: { trusted: boolean; throttle: SignInThrottle } };

/** The process's throttle (kept on globalThis so development reloads keep it). */
export function signInThrottle(trustedAddresses: boolean): SignInThrottle {
  const held = processWide.__gradesyncSignInThrottle;
  if (held && held.trusted === trustedAddresses) return held.throttle;
  const throttle = new SignInThrottle({ trustedAddresses });
  processWide.__gradesyncSignInThrottle = { trusted: trustedAddresses, throttle };
  return throttle;
}

/** Tests start from a clean slate. */
export function resetSignInThrottleForTests(): void {
  processWide.__gradesyncSignInThrottle = undefined;
}
