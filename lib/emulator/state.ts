/**
 * What LTIAAS and the LMSs behind it hold, in memory: platforms, courses, launches (ltiks), service
 * keys, rosters, line items and the scores each LMS accepted. No HTTP here; api.ts answers requests
 * from it.
 */
import { randomBytes } from "node:crypto";
import { urlPart } from "./http";
import { familyFromCode, type Cell } from "./gradebook";
import { expandRoles } from "./roles";
import type { Throttle } from "./throttle";
import type { GradebookKnobs, LaunchInput, LineItem, LmsFamily, Member, ScorePost } from "./types";

export const LTIK_TTL_MS = 24 * 60 * 60 * 1000;

export interface Platform {
  id: string;
  url: string;
  name: string;
  productFamilyCode: string;
  clientId: string;
  deploymentId: string;
}

export interface Course {
  platformId: string;
  id: string;
  label?: string;
  title?: string;
  members: Map<string, Member>;
  /** Users who launched: setRoster keeps them. */
  launched: Set<string>;
}

/** What an ltik or a service key opens. */
export interface Grant {
  platformId: string;
  contextId?: string;
  resourceLinkId?: string;
  ags: boolean;
  nrps: boolean;
}

export interface LaunchRecord extends Grant {
  idtoken: IdTokenBody;
  createdAt: number;
  expired: boolean;
}

export interface ServiceKeyRecord extends Grant {
  contextId: string;
  revoked: boolean;
}

export interface StoredLineItem extends LineItem {
  platformId: string;
  contextId: string;
  deleted: boolean;
  /** This column's own gradebook knobs (unset: the platform's). */
  knobs?: Partial<GradebookKnobs>;
}

/** How the LMS behind a platform is played, beyond what its productFamilyCode says. */
export interface PlatformSettings {
  family?: LmsFamily;
  knobs: Partial<GradebookKnobs>;
  throttle?: Throttle;
}

export type IdTokenBody = {
  ltiVersion: string;
  user: { id: string; roles: string[]; name?: string; email?: string; givenName?: string; familyName?: string };
  platform: Platform & Record<string, unknown>;
  launch: Record<string, unknown>;
  services: Record<string, unknown>;
};

const token = () => randomBytes(24).toString("base64url");

const courseKey = (platformId: string, contextId: string) => `${platformId}\u0000${contextId}`;
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "lms";
const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

export class LmsState {
  platforms = new Map<string, Platform>();
  courses = new Map<string, Course>();
  launches = new Map<string, LaunchRecord>();
  serviceKeys = new Map<string, ServiceKeyRecord>();
  items = new Map<string, StoredLineItem>();
  posts = new Map<string, ScorePost[]>();
  /** line item → user → the gradebook cell. */
  cells = new Map<string, Map<string, Cell>>();
  settings = new Map<string, PlatformSettings>();
  private itemSeq = 0;

  platform(input: { platformId: string; platformName?: string; platformUrl?: string; productFamilyCode?: string }): Platform {
    let p = this.platforms.get(input.platformId);
    if (!p) {
      const taken = new Set([...this.platforms.values()].map((x) => x.url));
      let url = input.platformUrl?.replace(/\/+$/, "");
      // Distinct platforms must not share an issuer: a paging URL of one would pass for the other's.
      for (let n = 1; !url || taken.has(url); n++) {
        url = `https://${slug(input.platformId)}${n > 1 ? `-${n}` : ""}.lms.example.com`;
      }
      p = {
        id: input.platformId,
        url,
        name: input.platformName ?? `Emulated LMS (${input.platformId})`,
        productFamilyCode: input.productFamilyCode ?? "canvas",
        clientId: `client-${slug(input.platformId)}`,
        deploymentId: "1",
      };
      this.platforms.set(p.id, p);
    }
    return p;
  }

  course(platformId: string, contextId: string, names: { label?: string; title?: string } = {}): Course {
    const key = courseKey(platformId, contextId);
    let c = this.courses.get(key);
    if (!c) {
      c = { platformId, id: contextId, members: new Map(), launched: new Set() };
      this.courses.set(key, c);
    }
    if (names.label !== undefined) c.label = names.label;
    if (names.title !== undefined) c.title = names.title;
    return c;
  }

  findCourse(platformId: string, contextId: string): Course | undefined {
    return this.courses.get(courseKey(platformId, contextId));
  }

  /** Base of a course's LMS service URLs (line items, names and roles). */
  courseUrl(platformId: string, contextId: string): string {
    return `${this.platform({ platformId }).url}/api/lti/courses/${urlPart(contextId)}`;
  }

  createLaunch(input: LaunchInput, now = Date.now()): { ltik: string; serviceKey?: string; idtoken: IdTokenBody } {
    const platform = this.platform({
      platformId: input.platformId ?? "platform-1",
      platformName: input.platformName,
      platformUrl: input.platformUrl,
      productFamilyCode: input.productFamilyCode,
    });
    const messageType = input.messageType ?? "LtiResourceLinkRequest";
    // What is not given is not sent: a launch without contextId has no course context.
    const contextId = input.noContext ? undefined : input.contextId;
    const resourceLinkId = messageType === "LtiDeepLinkingRequest" ? undefined : input.resourceLinkId;
    // Without a course there is no gradebook and no roster to offer.
    const ags = contextId !== undefined && (input.ags ?? true);
    const nrps = contextId !== undefined && (input.nrps ?? true);
    const roles = expandRoles(input.roles);
    const user = defined({ ...input.user, roles });

    let course: Course | undefined;
    if (contextId !== undefined) {
      course = this.course(platform.id, contextId, { label: input.contextLabel, title: input.contextTitle });
      const { id, ...pii } = input.user;
      course.members.set(id, defined({ userId: id, roles, status: "Active" as const, ...pii }));
      course.launched.add(id);
    }

    let serviceKey: string | undefined;
    if (contextId !== undefined && (ags || nrps)) {
      serviceKey = token();
      this.serviceKeys.set(serviceKey, { platformId: platform.id, contextId, resourceLinkId, ags, nrps, revoked: false });
    }

    const presentation: Record<string, unknown> = {
      locale: "en",
      returnUrl: `${platform.url}/courses/${urlPart(contextId ?? "none")}/external_content/success/external_tool_redirect`,
    };
    presentation[input.documentTargetSpelling === "document_target" ? "document_target" : "documentTarget"] = "iframe";

    const launch: Record<string, unknown> = { type: messageType };
    if (course) {
      launch.context = defined({ id: course.id, label: course.label, title: course.title, type: ["CourseSection"] });
    }
    if (resourceLinkId !== undefined) {
      launch.resourceLink = defined({ id: resourceLinkId, title: input.resourceLinkTitle });
    }
    launch.presentation = presentation;
    launch.custom = { ...(input.custom ?? {}) };

    const idtoken: IdTokenBody = {
      ltiVersion: "1.3.0",
      user,
      platform: { ...platform },
      launch,
      services: defined({
        assignmentAndGrades: defined({ available: ags, lineItemId: ags ? input.lineItemId : undefined }),
        namesAndRoles: { available: nrps },
        deepLinking: { available: messageType === "LtiDeepLinkingRequest" },
        serviceKey,
      }),
    };

    const ltik = token();
    this.launches.set(ltik, { platformId: platform.id, contextId, resourceLinkId, ags, nrps, idtoken, createdAt: now, expired: false });
    return { ltik, serviceKey, idtoken: structuredClone(idtoken) };
  }

  setRoster(platformId: string, contextId: string, members: Member[]): void {
    this.platform({ platformId });
    const course = this.course(platformId, contextId);
    const next = new Map<string, Member>();
    for (const m of members) next.set(String(m.userId), { ...m, userId: String(m.userId), roles: expandRoles(m.roles) });
    for (const [id, m] of course.members) if (course.launched.has(id) && !next.has(id)) next.set(id, m);
    course.members = next;
  }

  members(platformId: string, contextId: string): Member[] {
    return [...(this.findCourse(platformId, contextId)?.members.values() ?? [])];
  }

  addLineItem(platformId: string, contextId: string, item: Omit<LineItem, "id">): StoredLineItem {
    this.course(platformId, contextId);
    const id = `${this.courseUrl(platformId, contextId)}/line_items/${++this.itemSeq}`;
    const stored: StoredLineItem = { id, ...defined(item), platformId, contextId, deleted: false };
    this.items.set(id, stored);
    return stored;
  }

  lineItems(platformId: string, contextId: string): StoredLineItem[] {
    return [...this.items.values()].filter((i) => !i.deleted && i.platformId === platformId && i.contextId === contextId);
  }

  cellsOf(lineItemId: string): Map<string, Cell> {
    let cells = this.cells.get(lineItemId);
    if (!cells) this.cells.set(lineItemId, (cells = new Map()));
    return cells;
  }

  settingsOf(platformId: string): PlatformSettings {
    let s = this.settings.get(platformId);
    if (!s) this.settings.set(platformId, (s = { knobs: {} }));
    return s;
  }

  lmsFamily(platformId: string): LmsFamily {
    return this.settings.get(platformId)?.family ?? familyFromCode(this.platforms.get(platformId)?.productFamilyCode);
  }

  gradebookKnobs(item: StoredLineItem): GradebookKnobs {
    const platform = this.settings.get(item.platformId)?.knobs;
    return {
      dropZeroScores: item.knobs?.dropZeroScores ?? platform?.dropZeroScores ?? false,
      discardScores: item.knobs?.discardScores ?? platform?.discardScores ?? false,
    };
  }

  recordScore(post: ScorePost): void {
    const list = this.posts.get(post.lineItemId) ?? [];
    list.push(post);
    this.posts.set(post.lineItemId, list);
  }
}

/** A line item as AGS shows it (without the emulator's bookkeeping). */
export function publicLineItem(i: StoredLineItem): LineItem {
  const item: Partial<StoredLineItem> = { ...i };
  delete item.platformId;
  delete item.contextId;
  delete item.deleted;
  delete item.knobs;
  return item as LineItem;
}
