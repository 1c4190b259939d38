/**
 * The LTIAAS service API over the emulated LMS: id token, line items, scores (and AGS results),
 * memberships. Runs after authentication and injected faults; answers what LTIAAS (validation) or the
 * LMS behind it (404, 409, 422, paging) would.
 */
import { z } from "zod";
import { json, ltiaasError, noContent, gatewayPage } from "./http";
import type { Principal } from "./auth";
import { CANVAS_SUBMISSION_EXTENSION, isListed, receiveScore, resultOf, type Cell, type ScoreInput } from "./gradebook";
import { isGradableEnrollment, hasRole } from "./roles";
import { publicLineItem, type Grant, type LmsState, type StoredLineItem } from "./state";
import type { CanvasSubmissionExtension, Faults, Member, RequestLogEntry } from "./types";

export interface ApiContext {
  state: LmsState;
  faults: Faults;
  /** Origin and base path of this emulator, for absolute `next` links. */
  base: string;
  /** The LMS's clock, ms. */
  now: () => number;
}

export interface ApiAnswer {
  response: Response;
  /** The user a score post was for (request log). */
  userId?: string;
  /** What a score body said about submission times (request log). */
  sent?: RequestLogEntry["sent"];
}

type Scoped = Grant & { contextId: string };

const PII = ["name", "email", "givenName", "familyName", "picture"] as const;

const NOT_FOUND = () => ltiaasError(404, "The specified resource does not exist.");
const methodNotAllowed = () => ltiaasError(405, "METHOD_NOT_ALLOWED");
const invalid = (description: string) => ltiaasError(400, "INVALID_PARAMETERS", description);

/** An ISO 8601 date and time with its offset, as AGS dates are. */
const isoDateTime = () => z.iso.datetime({ offset: true, message: "must be an ISO 8601 date and time with an offset" });

const lineItemBody = z.object({
  label: z.string().trim().min(1, "label is required"),
  scoreMaximum: z.number().positive("scoreMaximum must be greater than 0"),
  resourceLinkId: z.string().optional(),
  resourceId: z.string().optional(),
  tag: z.string().optional(),
  startDateTime: isoDateTime().optional(),
  endDateTime: isoDateTime().optional(),
  gradesReleased: z.boolean().optional(),
});

const scoreBody = z
  .object({
    userId: z.string().min(1, "userId is required"),
    activityProgress: z.enum(["Initialized", "Started", "InProgress", "Submitted", "Completed"]),
    gradingProgress: z.enum(["FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"]),
    scoreGiven: z.number().min(0, "scoreGiven must be 0 or more").optional(),
    scoreMaximum: z.number().positive("scoreMaximum must be greater than 0").optional(),
    comment: z.string().optional(),
    submission: z.object({ startedAt: isoDateTime().optional(), submittedAt: isoDateTime().optional() }).optional(),
    // LTIAAS passes the LMS's extensions on unread; only the LMS (Canvas) interprets this one.
    [CANVAS_SUBMISSION_EXTENSION]: z.unknown().optional(),
  })
  .refine((b) => b.scoreGiven === undefined || b.scoreMaximum !== undefined, {
    message: "scoreMaximum is required with scoreGiven",
    path: ["scoreMaximum"],
  });

async function parseBody<T>(req: Request, schema: z.ZodType<T>): Promise<T | Response> {
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    return invalid("The body is not valid JSON.");
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  return invalid(parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
}

/** The course an ltik or service key opens, if it opens this service there. */
function scope(p: Principal, service: "ags" | "nrps"): Scoped | Response {
  if (p.kind === "bearer") {
    return ltiaasError(401, "UNSUPPORTED_AUTHENTICATION_METHOD", "This endpoint accepts ltik or service key authentication.");
  }
  if (p.contextId === undefined || !p[service]) {
    const name = service === "ags" ? "Assignment and Grades" : "Names and Roles Provisioning";
    return ltiaasError(400, "SERVICE_NOT_AVAILABLE_FOR_CONTEXT", `${name} is not available for this launch context.`);
  }
  return { ...p, contextId: p.contextId };
}

interface Paging {
  page: number;
  perPage: number;
  /** Filters as the LMS URL spells them, carried to the next page. */
  filters: Record<string, string>;
}

function positiveInt(value: string | null): number | undefined | "bad" {
  if (value === null || value === "") return undefined;
  return /^\d+$/.test(value) && Number(value) >= 1 ? Number(value) : "bad";
}

/**
 * Paging from either the first request (`limit` and filters in LTIAAS's names) or a `url=` follow-up
 * naming an LMS page under `lmsPrefix` (an LTIAAS `next` link wrapping one is unwrapped).
 */
function readPaging(url: URL, lmsPrefix: string, cap: number, filterNames: Record<string, string>): Paging | Response {
  const follow = url.searchParams.get("url");
  if (follow !== null) {
    let target: URL;
    try {
      target = new URL(follow);
      const inner = target.searchParams.get("url");
      if (inner !== null) target = new URL(inner);
    } catch {
      return invalid("url must be an absolute URL.");
    }
    const expected = new URL(lmsPrefix);
    if (target.origin !== expected.origin || target.pathname !== expected.pathname) {
      return invalid("url does not belong to this launch context.");
    }
    const page = positiveInt(target.searchParams.get("page")) ?? 1;
    const perPage = positiveInt(target.searchParams.get("per_page")) ?? cap;
    if (page === "bad" || perPage === "bad") return invalid("url has an invalid page.");
    const filters: Record<string, string> = {};
    for (const lmsName of Object.values(filterNames)) {
      const v = target.searchParams.get(lmsName);
      if (v !== null) filters[lmsName] = v;
    }
    return { page, perPage: Math.min(perPage, cap), filters };
  }
  const limit = positiveInt(url.searchParams.get("limit"));
  if (limit === "bad") return invalid("limit must be a whole number of at least 1.");
  const filters: Record<string, string> = {};
  for (const [apiName, lmsName] of Object.entries(filterNames)) {
    const v = url.searchParams.get(apiName);
    if (v !== null && v !== "") filters[lmsName] = v;
  }
  return { page: 1, perPage: Math.min(limit ?? cap, cap), filters };
}

/** One page of `items`; `next` is an LTIAAS link carrying the LMS's next-page URL in `url=`. */
function pageOf<T>(items: T[], paging: Paging, lmsPrefix: string, apiUrl: string): { items: T[]; next?: string } {
  const start = (paging.page - 1) * paging.perPage;
  const out = items.slice(start, start + paging.perPage);
  if (start + paging.perPage >= items.length) return { items: out };
  const q = new URLSearchParams({ ...paging.filters, page: String(paging.page + 1), per_page: String(paging.perPage) });
  return { items: out, next: `${apiUrl}?url=${encodeURIComponent(`${lmsPrefix}?${q}`)}` };
}

function withoutPii<T extends object>(o: T): T {
  const copy = { ...o } as Record<string, unknown>;
  for (const k of PII) delete copy[k];
  return copy as T;
}

export async function routeApi(req: Request, path: string, url: URL, p: Principal, ctx: ApiContext): Promise<ApiAnswer> {
  const respond = (response: Response): ApiAnswer => ({ response });

  if (path === "/api/idtoken") {
    if (req.method !== "GET") return respond(methodNotAllowed());
    if (p.kind !== "ltik") {
      return respond(ltiaasError(401, "UNSUPPORTED_AUTHENTICATION_METHOD", "The ID Token endpoint only accepts ltik authentication."));
    }
    const idtoken = structuredClone(p.launch.idtoken);
    if (ctx.faults.withholdPii) idtoken.user = withoutPii(idtoken.user);
    return respond(json(idtoken));
  }

  if (path === "/api/memberships") {
    if (req.method !== "GET") return respond(methodNotAllowed());
    const g = scope(p, "nrps");
    return respond(g instanceof Response ? g : memberships(url, g, ctx));
  }

  if (path === "/api/lineitems") {
    const g = scope(p, "ags");
    if (g instanceof Response) return respond(g);
    if (req.method === "GET") return respond(listLineItems(url, g, ctx));
    if (req.method === "POST") {
      const body = await parseBody(req, lineItemBody);
      if (body instanceof Response) return respond(body);
      return respond(json(publicLineItem(ctx.state.addLineItem(g.platformId, g.contextId, body)), 201));
    }
    return respond(methodNotAllowed());
  }

  // The id is a URL, encoded into one segment; tolerate it sent with its slashes raw too.
  const m = /^\/api\/lineitems\/(.+?)(\/scores)?$/.exec(path);
  if (m) {
    const g = scope(p, "ags");
    if (g instanceof Response) return respond(g);
    let id: string;
    try {
      id = decodeURIComponent(m[1]);
    } catch {
      return respond(invalid("The line item id is not correctly encoded."));
    }
    const item = ctx.state.items.get(id);
    const visible = item && !item.deleted && item.platformId === g.platformId && item.contextId === g.contextId ? item : undefined;

    if (m[2]) {
      if (req.method === "POST") return postScore(req, visible, g, p, ctx);
      if (req.method === "GET") return respond(visible ? results(url, visible, ctx) : NOT_FOUND());
      return respond(methodNotAllowed());
    }
    if (req.method === "GET") return respond(visible ? json(publicLineItem(visible)) : NOT_FOUND());
    if (req.method === "PUT") {
      const body = await parseBody(req, lineItemBody);
      if (body instanceof Response) return respond(body);
      if (!visible) return respond(NOT_FOUND());
      // PUT replaces the whole item: fields left out are gone.
      const replaced: StoredLineItem = {
        id: visible.id,
        ...body,
        platformId: visible.platformId,
        contextId: visible.contextId,
        deleted: false,
        knobs: visible.knobs,
      };
      ctx.state.items.set(visible.id, replaced);
      return respond(json(publicLineItem(replaced)));
    }
    if (req.method === "DELETE") {
      if (!visible) return respond(NOT_FOUND());
      visible.deleted = true;
      return respond(noContent());
    }
    return respond(methodNotAllowed());
  }

  return respond(ltiaasError(404, "NOT_FOUND", `No LTIAAS endpoint at ${req.method} ${path}.`));
}

function listLineItems(url: URL, g: Scoped, ctx: ApiContext): Response {
  const prefix = `${ctx.state.courseUrl(g.platformId, g.contextId)}/line_items`;
  const paging = readPaging(url, prefix, ctx.faults.lineItemPageSize, {
    resourceLinkId: "resource_link_id",
    resourceId: "resource_id",
    tag: "tag",
  });
  if (paging instanceof Response) return paging;
  const f = paging.filters;
  const items = ctx.state
    .lineItems(g.platformId, g.contextId)
    .filter(
      (i) =>
        (f.resource_link_id === undefined || i.resourceLinkId === f.resource_link_id) &&
        (f.resource_id === undefined || i.resourceId === f.resource_id) &&
        (f.tag === undefined || i.tag === f.tag),
    )
    .map(publicLineItem);
  const page = pageOf(items, paging, prefix, `${ctx.base}/api/lineitems`);
  return json(page.next ? { lineItems: page.items, next: page.next } : { lineItems: page.items });
}

async function postScore(
  req: Request,
  item: StoredLineItem | undefined,
  g: Scoped,
  p: Principal,
  ctx: ApiContext,
): Promise<ApiAnswer> {
  const body = await parseBody(req, scoreBody);
  if (body instanceof Response) return { response: body };
  const userId = body.userId;
  const rawExtension = body[CANVAS_SUBMISSION_EXTENSION];
  const canvasSubmission =
    rawExtension !== null && typeof rawExtension === "object" && !Array.isArray(rawExtension)
      ? (rawExtension as CanvasSubmissionExtension)
      : undefined;
  const sent: ApiAnswer["sent"] =
    body.submission !== undefined || canvasSubmission !== undefined
      ? { ...(body.submission && { submission: body.submission }), ...(canvasSubmission && { canvasSubmission }) }
      : undefined;
  if (!item) return { response: NOT_FOUND(), userId, sent };

  const member = ctx.state.findCourse(g.platformId, g.contextId)?.members.get(userId);
  if (
    ctx.faults.notGradable.has(userId) ||
    !member ||
    member.status === "Deleted" ||
    !isGradableEnrollment(member.roles)
  ) {
    return { response: ltiaasError(422, "User not found in course or is not a student"), userId, sent };
  }
  if (ctx.faults.maxAttempts.has(userId)) {
    return {
      response: ltiaasError(422, "The maximum number of allowed attempts has been reached for this submission"),
      userId,
      sent,
    };
  }
  const input: ScoreInput = {
    userId,
    activityProgress: body.activityProgress,
    gradingProgress: body.gradingProgress,
    scoreGiven: body.scoreGiven,
    scoreMaximum: body.scoreMaximum,
    comment: body.comment,
    submission: body.submission,
    canvasSubmission,
  };
  const outcome = receiveScore(item, input, {
    state: ctx.state,
    faults: ctx.faults,
    now: ctx.now(),
    auth: p.kind === "ltik" ? "ltik" : "serviceKey",
  });
  return { response: outcome instanceof Response ? outcome : noContent(), userId, sent };
}

/** AGS results: the gradebook's cells that the LMS lists, on the column's scale. */
function results(url: URL, item: StoredLineItem, ctx: ApiContext): Response {
  const prefix = `${item.id}/results`;
  const paging = readPaging(url, prefix, ctx.faults.lineItemPageSize, { userId: "user_id" });
  if (paging instanceof Response) return paging;
  const family = ctx.state.lmsFamily(item.platformId);
  const cells = ctx.state.cells.get(item.id);
  const wanted = paging.filters.user_id;
  let listed: Cell[];
  if (wanted !== undefined) {
    const cell = cells?.get(wanted);
    listed = cell && isListed(cell, family) ? [cell] : [];
  } else {
    listed = [];
    for (const cell of cells?.values() ?? []) if (isListed(cell, family)) listed.push(cell);
  }
  const page = pageOf(listed, paging, prefix, `${ctx.base}/api/lineitems/${encodeURIComponent(item.id)}/scores`);
  const scores = page.items.map((cell) => resultOf(item, cell));
  return json(page.next ? { scores, next: page.next } : { scores });
}

function memberships(url: URL, g: Scoped, ctx: ApiContext): Response {
  const prefix = `${ctx.state.courseUrl(g.platformId, g.contextId)}/names_and_roles`;
  const paging = readPaging(url, prefix, ctx.faults.membershipPageSize, { role: "role", resourceLinkId: "rlid" });
  if (paging instanceof Response) return paging;
  if (ctx.faults.failMembershipsOnPage === paging.page) return gatewayPage(502);
  const course = ctx.state.course(g.platformId, g.contextId);
  const role = paging.filters.role;
  // Resource-link memberships (rlid) are everyone in the course here.
  const members: Member[] = [...course.members.values()]
    .filter((m) => role === undefined || hasRole(m.roles, role))
    .map((m) => (ctx.faults.withholdPii ? withoutPii(m) : { ...m }));
  const page = pageOf(members, paging, prefix, `${ctx.base}/api/memberships`);
  const context: Record<string, string> = { id: course.id };
  if (course.label !== undefined) context.label = course.label;
  if (course.title !== undefined) context.title = course.title;
  const body: Record<string, unknown> = { id: prefix, context, members: page.items };
  if (page.next) body.next = page.next;
  return json(body);
}
