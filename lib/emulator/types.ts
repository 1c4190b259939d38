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
  /**
   * The LMS's clock in ms (score timestamps, hand edits, throttle buckets). Default Date.now, read at
   * each use, so vitest's fake Date drives it too.
   */
  now?: () => number;
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

/** AGS 2.0 `submission` of a score body, as received. */
export interface ScoreSubmission {
  startedAt?: string;
  submittedAt?: string;
}

/** Canvas's extension `https://canvas.instructure.com/lti/submission`, as received (unknown keys kept). */
export type CanvasSubmissionExtension = {
  prioritize_non_tool_grade?: unknown;
  new_submission?: unknown;
  submitted_at?: unknown;
} & Record<string, unknown>;

/**
 * What the LMS did with a score it answered 204 to:
 * - stored: the cell holds it (scaled to the column's maximum);
 * - clipped: stored, cut to the column's maximum (D2L);
 * - kept_hand_grade: Canvas with prioritize_non_tool_grade kept the grade a person set;
 * - dropped_zero: a 0 the LMS dropped (knob dropZeroScores);
 * - discarded: accepted and thrown away (knob discardScores: a concluded course).
 */
export type ScoreEffect = "stored" | "clipped" | "kept_hand_grade" | "dropped_zero" | "discarded";

/** A score the LMS answered 204 to, as received, with the LMS's own timestamp and what it did with it. */
export interface ScorePost {
  lineItemId: string;
  userId: string;
  activityProgress: ActivityProgress;
  gradingProgress: GradingProgress;
  scoreGiven?: number;
  scoreMaximum?: number;
  comment?: string;
  /** AGS 2.0 submission times, when the body carried them. */
  submission?: ScoreSubmission;
  /** Canvas's submission extension, when the body carried it (whatever the platform). */
  canvasSubmission?: CanvasSubmissionExtension;
  /** ISO time the LMS recorded it (LTIAAS stamps a score at arrival). */
  timestamp: string;
  auth: "ltik" | "serviceKey";
  effect: ScoreEffect;
}

/** How an LMS treats scores; from the platform's productFamilyCode unless set (setLmsFamily). */
export type LmsFamily = "canvas" | "moodle" | "d2l" | "generic";

/** Gradebook knobs, per platform or per line item (a line item's own value wins). Off by default. */
export interface GradebookKnobs {
  /** A score of 0 is answered 204 and not stored. */
  dropZeroScores: boolean;
  /** Every score is answered 204 and not stored (a concluded course). */
  discardScores: boolean;
}

/** One gradebook cell as the LMS holds it (emulator.gradebook). */
export interface GradebookCell {
  userId: string;
  /** On the column's scale; absent: no grade (never graded, not FullyGraded, or cleared by a person). */
  resultScore?: number;
  /** The column's scoreMaximum. */
  resultMaximum: number;
  comment?: string;
  /** Who set what the cell holds, and when (ISO). */
  setBy: "tool" | "person";
  setAt: string;
  /** Whether AGS results list it: not once a person cleared it; on Canvas, a hand grade only once a tool result exists. */
  listed: boolean;
  /** A tool score reached this cell (stored, or kept out by prioritize_non_tool_grade). */
  toolResult: boolean;
  /** The value was cut to the maximum (D2L). */
  clipped: boolean;
  /** The submission time the LMS holds (Canvas: submission.submittedAt, else the extension's submitted_at, else arrival). */
  submittedAt?: string;
  /** Canvas: submitted after the column's endDateTime (as it is now). */
  late: boolean;
  /** Canvas: submissions counted (new_submission true or absent). */
  attempts: number;
}

export type ThrottleMode = "none" | "canvas" | "d2l";

/** Canvas's leaky bucket (canvas-lms request_throttle.rb), in bucket units. */
export interface CanvasBucketParams {
  /** Requests are refused while the level (their own reservation included) is at or above it. Default 600. */
  highWaterMark: number;
  /** The level never exceeds it. Default 800. */
  maximum: number;
  /** Units drained per second. Default 10. */
  outflowPerSecond: number;
  /** Reserved when a request starts, given back when it ends. Default 50. */
  upFrontCost: number;
  /** What a request really costs, charged when it ends (Canvas: its CPU + database seconds). Default 1. */
  requestCost: number;
}

/** D2L's credit bucket: a number of credits per fixed window, a cost per call. */
export interface D2lBucketParams {
  /** Default 50,000 (D2L, 2019). */
  credits: number;
  /** Default 60. */
  windowSeconds: number;
  /** Default 10. */
  costPerCall: number;
}

export type ThrottleSettings =
  | { mode: "none" }
  | ({ mode: "canvas" } & CanvasBucketParams)
  | ({ mode: "d2l" } & D2lBucketParams);

/** What setThrottle takes: a mode, any parameters to change from the defaults, and whether LTIAAS relays the rate headers. */
export type ThrottleInput = (
  | { mode: "none" }
  | ({ mode: "canvas" } & Partial<CanvasBucketParams> & {
      /** The bucket's level when set (default 0: empty); a bucket the platform's other traffic keeps busy starts higher. */
      startLevel?: number;
    })
  | ({ mode: "d2l" } & Partial<D2lBucketParams>)
) & {
  /** Default true. False: answers carry no X-Rate-Limit-*, X-Request-Cost or Retry-After (LTIAAS may not relay them). */
  relayHeaders?: boolean;
};

export interface ThrottleStatus {
  settings: ThrottleSettings;
  relayHeaders: boolean;
  /** Canvas: the bucket's level now (units); D2L: credits used in the current window. */
  level: number;
  /** What X-Rate-Limit-Remaining would say now. */
  remaining: number;
  /** Answers refused by this throttle since it was set. */
  refused: number;
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
  /** For score posts that parsed: what the body said about submission times and Canvas's extension. */
  sent?: { submission?: ScoreSubmission; canvasSubmission?: CanvasSubmissionExtension };
}

/** Mutable knobs; all off by default. reset() restores the defaults in place. */
export interface Faults {
  /** Added to every API response: one number, or per platform. */
  latencyMs?: number | Record<string, number>;
  /** Respond after this long (client timeouts). A request whose client gave up is not processed. */
  hangMs?: number;
  /** Only requests of this method hang (default: every request). */
  hangMethod?: "GET" | "POST";
  /** The next `remaining` requests (of `platformId`, and of `method`, if given) are throttled. */
  rateLimit?: { style: "429" | "canvas403"; retryAfterSeconds?: number; remaining: number; platformId?: string; method?: "GET" | "POST" };
  /** The next `remaining` requests (of `platformId`, and of `method`, if given) fail with this status. */
  serverErrors?: { status: 500 | 502 | 503; remaining: number; platformId?: string; method?: "GET" | "POST" };
  /** Score posts for these users: 422 "User not found in course or is not a student". */
  notGradable: Set<string>;
  /** Score posts for these users: Canvas's 422 "maximum number of allowed attempts". */
  maxAttempts: Set<string>;
  /**
   * Moodle's 409 for a score in the same second as (or before) the cell's last change, whatever the
   * platform's family (a Moodle platform always does this).
   */
  moodleSameSecond: boolean;
  /**
   * The next `remaining` score posts (of `platformId` / `userId`, if given) are refused as written out
   * of order: Canvas's 400 "Provided timestamp … before last updated timestamp", else Moodle's 409.
   */
  timestampRefusal?: { remaining: number; platformId?: string; userId?: string };
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
    item: {
      label: string;
      scoreMaximum: number;
      resourceLinkId?: string;
      resourceId?: string;
      tag?: string;
      startDateTime?: string;
      endDateTime?: string;
    },
  ): string;
  /** Sets (ISO 8601) or removes (null) a line item's due date, endDateTime. */
  setDueDate(lineItemId: string, endDateTime: string | null): void;
  deleteLineItem(id: string): void;
  /** Later calls with it answer 401. */
  revokeServiceKey(serviceKey: string): void;
  /** Later calls with it answer 401 INVALID_LTIK_AUTH_AUTHORIZATION_HEADER. */
  expireLtik(ltik: string): void;
  faults: Faults;
  /** Every API request. */
  log: RequestLogEntry[];
  /** Every score the LMS answered 204 to for a line item, in order, with what it did with each (effect). */
  scores(lineItemId: string): ScorePost[];
  /** The line item's gradebook cells as the LMS holds them, hidden ones included (see listed). */
  gradebook(lineItemId: string): GradebookCell[];
  /**
   * A person edits a gradebook cell by hand: `value` on the column's scale, or null to clear it (the
   * result disappears). Remembered as set by a person, now.
   */
  setHandGrade(lineItemId: string, userId: string, value: number | null, opts?: { comment?: string }): void;
  /** Plays the platform as this LMS; null: back to its productFamilyCode. */
  setLmsFamily(platformId: string, family: LmsFamily | null): void;
  lmsFamily(platformId: string): LmsFamily;
  /** Sets knobs for a platform or one line item; undefined leaves one as it is, null (line item) inherits again. */
  setGradebookKnobs(target: { platformId: string } | { lineItemId: string }, knobs: { [K in keyof GradebookKnobs]?: boolean | null }): void;
  /** The knobs in force for a line item (its own, else its platform's). */
  gradebookKnobs(lineItemId: string): GradebookKnobs;
  /** Replaces the platform's throttle; its bucket starts empty. */
  setThrottle(platformId: string, throttle: ThrottleInput): void;
  throttle(platformId: string): ThrottleStatus;
  lineItems(platformId: string, contextId: string): LineItem[];
  /** Current NRPS members of a course (as the LMS holds them, PII included). */
  members(platformId: string, contextId: string): Member[];
  stats(): {
    inFlightMaxByPlatform: Record<string, number>;
    inFlightByPlatform: Record<string, number>;
    /** Answers refused for a rate limit (a throttle mode or the rateLimit fault), per platform. */
    throttledByPlatform: Record<string, number>;
    requests: number;
  };
  reset(): void;
}
