/** The fault knobs and the answers they inject before a request reaches the emulated LMS. */
import { gatewayPage, ltiaasError } from "./http";
import type { Faults } from "./types";

export function defaultFaults(): Faults {
  return {
    latencyMs: undefined,
    hangMs: undefined,
    hangMethod: undefined,
    hangTimes: undefined,
    rateLimit: undefined,
    serverErrors: undefined,
    notGradable: new Set(),
    maxAttempts: new Set(),
    moodleSameSecond: false,
    timestampRefusal: undefined,
    membershipPageSize: 50,
    lineItemPageSize: 50,
    failMembershipsOnPage: undefined,
    withholdPii: false,
    inactivePlatforms: new Set(),
  };
}

/** Restores the defaults in place, so references held by tests stay live. */
export function resetFaults(faults: Faults): void {
  for (const key of Object.keys(faults)) delete (faults as unknown as Record<string, unknown>)[key];
  Object.assign(faults, defaultFaults());
}

export function latencyFor(faults: Faults, platformId: string | undefined): number {
  const l = faults.latencyMs;
  if (typeof l === "number") return l;
  if (l && platformId !== undefined) return l[platformId] ?? 0;
  return 0;
}

/** Takes one from a counted fault that applies to this platform and method; false when spent or not for it. */
function take(fault: { remaining: number; platformId?: string; method?: string } | undefined, platformId: string | undefined, method: string): boolean {
  if (!fault || fault.remaining <= 0) return false;
  if (fault.platformId !== undefined && fault.platformId !== platformId) return false;
  if (fault.method !== undefined && fault.method !== method) return false;
  fault.remaining -= 1;
  return true;
}

/** A throttle or an outage answer for this request, if one is armed. */
export function injectedFault(faults: Faults, platformId: string | undefined, method: string): Response | undefined {
  const rl = faults.rateLimit;
  if (take(rl, platformId, method)) {
    if (rl!.style === "canvas403") {
      // Canvas: 403 with "Rate Limit Exceeded" in the body and no Retry-After.
      return ltiaasError(403, "403 Forbidden (Rate Limit Exceeded)", undefined, { "x-rate-limit-remaining": "0.0" });
    }
    return ltiaasError(429, "Rate limit exceeded", "Too many requests; retry after the Retry-After delay.", {
      "retry-after": String(rl!.retryAfterSeconds ?? 1),
    });
  }
  const se = faults.serverErrors;
  if (take(se, platformId, method)) {
    // 500 comes from LTIAAS itself; 502/503 from a gateway in front of the LMS, not LTIAAS-shaped.
    return se!.status === 500 ? ltiaasError(500, "INTERNAL_SERVER_ERROR", "The LMS request failed.") : gatewayPage(se!.status);
  }
  return undefined;
}
