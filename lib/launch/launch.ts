/**
 * GET /launch, as the README describes: idtoken → persist (serviceKey sealed and overwritten) →
 * session → where to send the user. Every failure is a LaunchFailure with the status and the words a
 * person can act on; nothing here echoes the ltik, the API key or the serviceKey.
 */
import { seal } from "../crypto/seal";
import { getDb } from "../db/client";
import { ltiaas, LtiaasError, type IdToken } from "../ltiaas";
import { createSession, type SessionRole } from "../session/session";
import { log } from "../log";
import { recordLaunch, type LaunchRefs } from "./record";
import { classifyRoles } from "../lti/roles";
import { frameAncestorOrigin } from "../session/frame-ancestors";
import { cleanOptional, cleanText, isStorableId } from "../validation";

export interface LaunchSuccess {
  ok: true;
  refs: LaunchRefs;
  role: SessionRole;
  /** Where to 303 to, without the session token. */
  location: string;
  token: string;
  expiresAt: Date;
}

export interface LaunchFailure {
  ok: false;
  status: 400 | 401 | 403 | 502;
  title: string;
  message: string;
  /** Machine-readable reason for the log line. */
  code: string;
}

const fail = (status: LaunchFailure["status"], code: string, title: string, message: string): LaunchFailure => ({
  ok: false,
  status,
  code,
  title,
  message,
});

/** LTIAAS codes that refuse the platform or the service, not this one launch link. */
const ACCOUNT_REFUSALS = new Set(["UNREGISTERED_OR_INACTIVE_PLATFORM", "INACTIVE_SERVICE"]);

/**
 * Who may frame our pages: the platform's URL and the origin of the launch's return URL. Both are
 * needed: Canvas's issuer (canvas.instructure.com) is not the school's own host, its return URL is.
 * Only plain https origins pass (see frameAncestorOrigin): the values become a CSP header.
 */
function lmsOrigins(idtoken: IdToken): string[] {
  const found = [frameAncestorOrigin(idtoken.platform.url), frameAncestorOrigin(idtoken.launch.presentation?.returnUrl)];
  return [...new Set(found.filter((o): o is string => Boolean(o)))];
}

/**
 * An ltik travels in an Authorization header: one holding CR, LF, NUL, spaces or non-ASCII cannot
 * be sent (fetch throws, which would look like LTIAAS being down). It is the caller's link that is
 * wrong, so it is refused without calling LTIAAS. LTIAAS's ltiks are JWTs, far below the cap.
 */
const LTIK_SHAPE = /^[\x21-\x7e]{1,8192}$/;

/** The first id of the idtoken the database cannot key by (over 255 characters, NUL, lone surrogate). */
function unparseableId(idtoken: IdToken): string | undefined {
  const ids: [string, string | undefined][] = [
    ["user.id", idtoken.user.id],
    ["platform.id", idtoken.platform.id],
    ["launch.context.id", idtoken.launch.context?.id],
    ["launch.resourceLink.id", idtoken.launch.resourceLink?.id],
  ];
  return ids.find(([, v]) => v !== undefined && !isStorableId(v))?.[0];
}

export async function launch(ltik: string | null | undefined): Promise<LaunchSuccess | LaunchFailure> {
  if (!ltik || ltik.trim() === "") {
    return fail(400, "missing_ltik", "This page needs a launch from your course", "Open Gradesync from the assignment link in your course; this address does not work on its own.");
  }

  if (!LTIK_SHAPE.test(ltik)) {
    return fail(401, "malformed_ltik", "This launch link is not valid", "The address that opened Gradesync is damaged. Go back to your course and open the assignment again.");
  }

  let idtoken: IdToken;
  try {
    idtoken = await ltiaas().getIdToken(ltik);
  } catch (error) {
    // The README splits by who failed: any LTIAAS 4xx (a throttle included) refuses the launch
    // (401); a 5xx, a timeout or an answer that does not parse is LTIAAS being unavailable (502).
    const refusedByLtiaas = error instanceof LtiaasError && error.status !== undefined && error.status >= 400 && error.status < 500;
    if (error instanceof LtiaasError && !refusedByLtiaas) {
      log.warn("launch.idtoken_unavailable", { kind: error.kind, status: error.status });
      return fail(502, "ltiaas_unavailable", "Your course could not be reached", "The LTI service did not answer in time. Wait a moment, then open the assignment again from your course.");
    }
    if (error instanceof LtiaasError) {
      log.info("launch.refused", { kind: error.kind, status: error.status, code: error.code });
      // Opening the link again cannot help here: the LMS's registration with LTIAAS needs fixing.
      if (error.code && ACCOUNT_REFUSALS.has(error.code)) {
        return fail(401, "platform_not_registered", "Your LMS is not connected to Gradesync", "The LTI service does not accept launches from this LMS right now. Ask your LMS administrator to check Gradesync's registration; opening the assignment again will not help until then.");
      }
      if (error.kind === "retry_later") {
        return fail(401, "launch_throttled", "Too many launches right now", "The LTI service asked us to slow down. Wait a minute, then open the assignment again from your course.");
      }
      return fail(401, "launch_refused", "This launch has expired", "Launch links expire. Go back to your course and open the assignment again.");
    }
    throw error;
  }

  // README: an idtoken whose ids exceed 255 characters does not parse (502), like any other
  // answer Gradesync cannot read; the id is never stored cut or altered (it would name someone else).
  const badId = unparseableId(idtoken);
  if (badId) {
    log.warn("launch.idtoken_unparseable", { field: badId });
    return fail(502, "idtoken_unparseable", "Your course could not be reached", "The LTI service sent launch details Gradesync cannot read. Open the assignment again from your course; if it keeps happening, tell your administrator.");
  }

  const context = idtoken.launch.context;
  const link = idtoken.launch.resourceLink;
  if (idtoken.launch.type !== "LtiResourceLinkRequest" || !context?.id || !link?.id) {
    return fail(400, "no_course_context", "Open this from a course assignment", "Gradesync keeps grades for course assignments. Add it to an assignment or module item in your course and open it from there.");
  }

  const roles = classifyRoles(idtoken.user.roles);
  if (roles.kind === "mentor") {
    return fail(403, "mentor_only", "Observers cannot open this", "Gradesync shows grades to teachers and students of the course. Observer and parent accounts have no page here.");
  }
  const role: SessionRole = roles.kind === "teacher" ? "teacher" : "learner";

  const triple = { platformId: idtoken.platform.id, contextId: context.id, resourceLinkId: link.id };
  const serviceKey = idtoken.services?.serviceKey;
  const sealedKey = serviceKey
    ? {
        ...(await seal(serviceKey, triple)),
        hasAgs: Boolean(idtoken.services?.assignmentAndGrades?.available),
        hasNrps: Boolean(idtoken.services?.namesAndRoles?.available),
      }
    : undefined;

  // LMS text is stored cleaned (lone surrogates become U+FFFD, NUL goes), never refused.
  const p = idtoken.platform;
  const refs = await recordLaunch(await getDb(), {
    platform: {
      id: p.id,
      url: cleanOptional(p.url),
      clientId: cleanOptional(p.clientId),
      deploymentId: cleanOptional(p.deploymentId),
      name: cleanOptional(p.name),
      productFamilyCode: cleanOptional(p.productFamilyCode),
    },
    context: { id: context.id, label: cleanOptional(context.label), title: cleanOptional(context.title) },
    resourceLink: { id: link.id, title: cleanOptional(link.title) },
    user: { id: idtoken.user.id, name: cleanOptional(idtoken.user.name), email: cleanOptional(idtoken.user.email) },
    roles: idtoken.user.roles.map(cleanText),
    kind: roles.kind,
    testUser: roles.testUser,
    lineItemId: cleanOptional(idtoken.services?.assignmentAndGrades?.lineItemId),
    sealedKey,
  });

  const { token, expiresAt } = await createSession({
    platformRef: refs.platformRef,
    contextRef: refs.contextRef,
    userRef: refs.userRef,
    role,
    lmsOrigins: lmsOrigins(idtoken),
  });
  log.info("launch.ok", { resourceLink: refs.resourceLinkRef, role, serviceKey: Boolean(serviceKey) });
  const location = role === "teacher" ? `/contexts/${refs.resourceLinkRef}` : `/activity/${refs.resourceLinkRef}`;
  return { ok: true, refs, role, location, token, expiresAt };
}
