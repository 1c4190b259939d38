/**
 * The emulator's public shapes: what tests, the bench and the LMS page code against. The AGS/NRPS
 * shapes are restated rather than imported from lib/ltiaas: the emulator is the other end of the wire,
 * and sharing the client's types would let both ends drift together unnoticed.
 */

export interface EmulatorOptions {
  /** The LTIAAS API key the tool must present. */
  apiKey: string;
  /**
   * Where launches go (the tool's origin). Default: the LMS page's own origin with 127.0.0.1 replaced
   * by localhost, so the LMS page and the tool are different sites, as with a real LMS.
   */
  toolUrl?: string;
  /** "" standalone (default), "/emulator" when mounted inside Next. */
  basePath?: string;
}

export interface LaunchInput {
  /** Default "platform-1". */
  platformId?: string;
  platformName?: string;
  /** The issuer URL; default https://<platformId>.lms.example.com. Fixed by the platform's first launch. */
  platformUrl?: string;
  /** Default "canvas"; fixed by the platform's first launch. */
  productFamilyCode?: string;
  /** Omitted (or noContext): a launch without course context (no services, no serviceKey). */
  contextId?: string;
  noContext?: boolean;
  contextTitle?: string;
  contextLabel?: string;
  /** Omitted: no resourceLink claim (always absent on deep-linking launches). */
  resourceLinkId?: string;
  resourceLinkTitle?: string;
  user: { id: string; name?: string; email?: string; givenName?: string; familyName?: string };
  /** Full LIS URIs or short names (Instructor, Learner, Mentor, TeachingAssistant, TestUser, …). */
  roles: string[];
  /** Default true. */
  ags?: boolean;
  /** Default true. */
  nrps?: boolean;
  /** Put into services.assignmentAndGrades.lineItemId. */
  lineItemId?: string;
  messageType?: "LtiResourceLinkRequest" | "LtiDeepLinkingRequest";
  documentTargetSpelling?: "documentTarget" | "document_target";
  custom?: Record<string, string>;
}

export type MemberStatus = "Active" | "Inactive" | "Deleted";

export interface Member {
  userId: string;
  /** Full LIS URIs or short names (expanded like launch roles). */
  roles: string[];
  /** Omitted means Active. */
  status?: MemberStatus;
  name?: string;
  email?: string;
  givenName?: string;
  familyName?: string;
  picture?: string;
}

export interface LineItem {
  id: string;
  label: string;
  scoreMaximum: number;
  resourceLinkId?: string;
  resourceId?: string;
  tag?: string;
  startDateTime?: string;
  endDateTime?: string;
  gradesReleased?: boolean;
}

export type ActivityProgress = "Initialized" | "Started" | "InProgress" | "Submitted" | "Completed";
export type GradingProgress = "FullyGraded" | "Pending" | "PendingManual" | "Failed" | "NotReady";

/** A score the LMS accepted, with the LMS's own timestamp. */
export interface ScorePost {
  lineItemId: string;
  userId: string;
  activityProgress: ActivityProgress;
  gradingProgress: GradingProgress;
  scoreGiven?: number;
  scoreMaximum?: number;
  comment?: string;
  /** ISO time the LMS recorded it. */
  timestamp: string;
  auth: "ltik" | "serviceKey";
}

export type AuthKind = "ltik" | "serviceKey" | "bearer" | "none";

export interface RequestLogEntry {
  /** ISO time the request arrived. */
  at: string;
  method: string;
  /** Path below the emulator's base, with the query (never carries a key). */
  path: string;
  auth: AuthKind;
  platformId?: string;
  status: number;
  ms: number;
  /** For score posts. */
  userId?: string;
}

/** Mutable knobs; all off by default. reset() restores the defaults in place. */
export interface Faults {
  /** Added to every API response: one number, or per platform. */
  latencyMs?: number | Record<string, number>;
  /** Respond after this long (client timeouts). A request whose client gave up is not processed. */
  hangMs?: number;
  /** The next `remaining` requests (of `platformId`, if given) are throttled. */
  rateLimit?: { style: "429" | "canvas403"; retryAfterSeconds?: number; remaining: number; platformId?: string };
  /** The next `remaining` requests (of `platformId`, if given) fail with this status. */
  serverErrors?: { status: 500 | 502 | 503; remaining: number; platformId?: string };
  /** Score posts for these users: 422 "User not found in course or is not a student". */
  notGradable: Set<string>;
  /** Score posts for these users: Canvas's 422 "maximum number of allowed attempts". */
  maxAttempts: Set<string>;
  /** A second score for one (line item, user) within one wall-clock second: Moodle's 409. */
  moodleSameSecond: boolean;
  /** NRPS page cap (Canvas: 50). */
  membershipPageSize: number;
  /** Line items and results page cap. */
  lineItemPageSize: number;
  /** 1-based membership page that answers 502. */
  failMembershipsOnPage?: number;
  /** Members and id tokens without name, email, givenName, familyName, picture. */
  withholdPii: boolean;
  /** Platforms LTIAAS refuses: 400 UNREGISTERED_OR_INACTIVE_PLATFORM. */
  inactivePlatforms: Set<string>;
}

export interface Emulator {
  handle(req: Request): Promise<Response>;
  /** Programmatic launch (tests, LMS page): returns the ltik to put on `${toolUrl}/launch?ltik=`. */
  createLaunch(input: LaunchInput): { ltik: string; serviceKey?: string; idtoken: unknown };
  /**
   * Replaces a course's NRPS members. Users who launched into the course and are not in the list stay
   * (a launch adds the launching user).
   */
  setRoster(platformId: string, contextId: string, members: Member[]): void;
  /** Returns the line item's id (an LMS-style URL). */
  addLineItem(
    platformId: string,
    contextId: string,
    item: { label: string; scoreMaximum: number; resourceLinkId?: string; resourceId?: string; tag?: string },
  ): string;
  deleteLineItem(id: string): void;
  /** Later calls with it answer 401. */
  revokeServiceKey(serviceKey: string): void;
  /** Later calls with it answer 401 INVALID_LTIK_AUTH_AUTHORIZATION_HEADER. */
  expireLtik(ltik: string): void;
  faults: Faults;
  /** Every API request. */
  log: RequestLogEntry[];
  /** Everything the LMS accepted for a line item, in order. */
  scores(lineItemId: string): ScorePost[];
  lineItems(platformId: string, contextId: string): LineItem[];
  /** Current NRPS members of a course (as the LMS holds them, PII included). */
  members(platformId: string, contextId: string): Member[];
  stats(): { inFlightMaxByPlatform: Record<string, number>; inFlightByPlatform: Record<string, number>; requests: number };
  reset(): void;
}
