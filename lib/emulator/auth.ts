/**
 * LTIAAS's three Authorization schemes. A failure answers 401 in LTIAAS's error shape, named after the
 * scheme that was tried; the description says which part was wrong, never echoing it.
 */
import { timingSafeEqual } from "node:crypto";
import { ltiaasError } from "./http";
import { LTIK_TTL_MS, type Grant, type LaunchRecord, type LmsState } from "./state";
import type { AuthKind } from "./types";

export type Principal =
  | ({ kind: "ltik"; launch: LaunchRecord } & Grant)
  | ({ kind: "serviceKey" } & Grant)
  | { kind: "bearer" };

export type AuthResult = { ok: true; principal: Principal } | { ok: false; kind: AuthKind; response: Response };

const INVALID_LTIK = "INVALID_LTIK_AUTH_AUTHORIZATION_HEADER";
const INVALID_SERVICE_KEY = "INVALID_SERVICE_KEY_AUTH_AUTHORIZATION_HEADER";
const INVALID_API_KEY = "INVALID_API_KEY_AUTH_AUTHORIZATION_HEADER";

function sameKey(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `<API_KEY>:<TOKEN>`; the token (base64url, a JWT) never holds a colon, an API key might. */
function splitCredentials(value: string): { apiKey: string; token: string } | undefined {
  const at = value.lastIndexOf(":");
  if (at <= 0 || at === value.length - 1) return undefined;
  return { apiKey: value.slice(0, at), token: value.slice(at + 1) };
}

export function authenticate(header: string | null, apiKey: string, state: LmsState, now: number): AuthResult {
  const fail = (kind: AuthKind, message: string, description: string): AuthResult => ({
    ok: false,
    kind,
    response: ltiaasError(401, message, description),
  });
  const m = /^(\S+)\s+(\S+)$/.exec(header?.trim() ?? "");
  if (!m) {
    return fail("none", "MISSING_OR_INVALID_AUTHORIZATION_HEADER", "Send LTIK-AUTH-V2, SERVICE-AUTH-V1 or Bearer credentials.");
  }
  const [, scheme, value] = m;

  if (scheme === "Bearer") {
    return sameKey(value, apiKey)
      ? { ok: true, principal: { kind: "bearer" } }
      : fail("bearer", INVALID_API_KEY, "Invalid API key.");
  }

  if (scheme === "LTIK-AUTH-V2") {
    const creds = splitCredentials(value);
    if (!creds) return fail("ltik", INVALID_LTIK, "Malformed header: expected <API_KEY>:<LTIK>.");
    if (!sameKey(creds.apiKey, apiKey)) return fail("ltik", INVALID_LTIK, "Invalid API key.");
    const launch = state.launches.get(creds.token);
    if (!launch || launch.expired || now - launch.createdAt >= LTIK_TTL_MS) {
      return fail("ltik", INVALID_LTIK, "Invalid or expired ltik.");
    }
    const { platformId, contextId, resourceLinkId, ags, nrps } = launch;
    return { ok: true, principal: { kind: "ltik", launch, platformId, contextId, resourceLinkId, ags, nrps } };
  }

  if (scheme === "SERVICE-AUTH-V1") {
    const creds = splitCredentials(value);
    if (!creds) return fail("serviceKey", INVALID_SERVICE_KEY, "Malformed header: expected <API_KEY>:<SERVICE_KEY>.");
    if (!sameKey(creds.apiKey, apiKey)) return fail("serviceKey", INVALID_SERVICE_KEY, "Invalid API key.");
    const key = state.serviceKeys.get(creds.token);
    if (!key || key.revoked) return fail("serviceKey", INVALID_SERVICE_KEY, "Invalid or revoked service key.");
    const { platformId, contextId, resourceLinkId, ags, nrps } = key;
    return { ok: true, principal: { kind: "serviceKey", platformId, contextId, resourceLinkId, ags, nrps } };
  }

  return fail("none", "MISSING_OR_INVALID_AUTHORIZATION_HEADER", "Unknown authorization scheme.");
}
