/**
 * The one place where ledger states and reason codes become words a teacher reads: what happened
 * and what to do. The sync engine writes codes like `not_gradable: …`, `max_attempts: …`,
 * `retry_later: HTTP 503`; pages never show those raw.
 */

export type Tone = "ok" | "warn" | "bad" | "muted";

export interface Explanation {
  /** Short label for a badge. */
  label: string;
  tone: Tone;
  /** What happened, in plain words. */
  words: string;
  /** What the teacher can do about it ("" when nothing is needed). */
  action: string;
}

export type RowState = "pending" | "sent" | "skipped" | "failed" | "overridden" | "none";

/**
 * Who reads the words. Teachers never see HTTP codes or engine terms; operators (`/admin`) get the
 * codes too, since that is what they look up in logs and LMS documentation.
 */
export type Audience = "teacher" | "admin";

interface MemberHint {
  /** NRPS status: Active | Inactive | Deleted. */
  status?: string | null;
  kind?: string | null;
  testUser?: boolean | null;
}

const RELAUNCH = "Open this assignment once from your course; the waiting grades are sent after that.";

const BASE: Record<RowState, Explanation> = {
  pending: { label: "Waiting", tone: "warn", words: "Recorded here, not yet in your gradebook.", action: "It goes out with the next sync, or press Sync now." },
  sent: { label: "In gradebook", tone: "ok", words: "Your gradebook has this score.", action: "" },
  skipped: { label: "Not sent", tone: "muted", words: "This score was not sent.", action: "" },
  failed: { label: "Failed", tone: "bad", words: "Sending this grade failed several times in a row.", action: "Press Retry failed. If it fails again, tell your LMS administrator." },
  overridden: {
    label: "Set by hand",
    tone: "warn",
    words: "Someone changed this grade by hand in your LMS, so Gradesync keeps theirs and does not send its own.",
    // The teacher's page lists these rows under "Changed in your gradebook", with the button that
    // sends Gradesync's score after a confirmation: re-typing it in the LMS is not the way.
    action: "Nothing to do if that grade is right. To put Gradesync's score back, use Send Gradesync's score under Changed in your gradebook, above.",
  },
  none: { label: "No score yet", tone: "muted", words: "This student has not finished the activity.", action: "" },
};

/** Reason codes the engine writes, by prefix (the part before the first ":"). */
const BY_CODE: Record<string, Omit<Explanation, "label" | "tone"> & { tone?: Tone; label?: string }> = {
  not_gradable: {
    words: "Your LMS would not take this grade: it does not see this person as a student of the course, or it refused the score.",
    action: "If this person should be graded, check in your LMS that they are enrolled as a student; teachers and people who left the course cannot receive grades.",
  },
  max_allowed_attempts: {
    words: "Your LMS says this student has used all allowed attempts.",
    action: "Allow another attempt for this student in the LMS, then press Sync now.",
  },
  would_clear_grade: {
    words: "A later update would have removed a grade already in your gradebook, so it was not sent.",
    action: "Nothing to do. If the grade should change, edit it in the gradebook.",
  },
  needs_relaunch: {
    words: "Your LMS stopped accepting Gradesync's connection for this assignment.",
    action: RELAUNCH,
  },
  line_item_not_found: {
    words: "The gradebook column for this assignment is gone (deleted, or the course has ended).",
    action: "Restore the column or re-open the assignment from the course; grades wait until then.",
  },
  // Ran out of attempts: reads as a failure (label and tone too), whatever state the row is in now.
  max_attempts: BASE.failed,
  retry_later: {
    words: "Your LMS was busy or did not answer; Gradesync tries again by itself.",
    action: "",
  },
  conflict: {
    words: "Your LMS asked for updates to be spaced out; the grade is sent again shortly.",
    action: "",
  },
  bad_response: {
    words: "Your LMS gave an answer Gradesync could not read; it tries again by itself.",
    action: "",
  },
  refused: {
    words: "The grade service refused the request (the tool's registration with your LMS may be inactive).",
    action: "Tell your LMS administrator that Gradesync's registration needs checking.",
  },
  rate_limited: {
    words: "Your LMS asked Gradesync to slow down; the grade is sent a little later.",
    action: "",
  },
};

/** Codes the engine retries by itself: the words already say so, no "Waiting:" prefix. */
const SELF_HEALING = new Set(["retry_later", "rate_limited", "conflict", "bad_response"]);

function codeOf(reason: string): string {
  const head = reason.split(":")[0].trim();
  if (head === "not_gradable" && /allowed attempts/i.test(reason)) return "max_allowed_attempts";
  return head;
}

const TEST_STUDENT: Omit<Explanation, "label" | "tone"> = {
  words: "This is the course's test student (the preview account of your LMS); LMSs do not keep its grades.",
  action: "Nothing to do.",
};

/** The operator's action for a grade set by hand: the button is on the teacher's page, not theirs. */
const OVERRIDDEN_ADMIN = "Nothing to do if that grade is right. The course's teacher can send Gradesync's score from their page (Changed in your gradebook); a backfill also does.";

/**
 * Words for one student's row: state first, then the engine's reason, then what the roster says.
 * `audience` "admin" keeps the same words and adds the engine's reason code (with its HTTP status).
 */
export function explain(state: RowState, reason?: string | null, member?: MemberHint | null, audience: Audience = "teacher"): Explanation {
  const e = explainForTeacher(state, reason, member);
  if (audience === "teacher") return e;
  const action = state === "overridden" ? OVERRIDDEN_ADMIN : e.action;
  return { ...e, action, words: reason ? `${e.words} (${reason})` : e.words };
}

function explainForTeacher(state: RowState, reason?: string | null, member?: MemberHint | null): Explanation {
  const base = BASE[state];
  // A test student's grade is refused by design: whatever the LMS answered, checking enrolment is
  // the wrong advice.
  if (state === "skipped" && member?.testUser) return { ...base, ...TEST_STUDENT };
  if (state === "none") {
    if (member?.status && member.status !== "Active")
      return { ...base, words: `This student is ${member.status.toLowerCase()} in the course.`, action: "No grade is expected." };
    return base;
  }
  if (state === "sent" || state === "overridden") return base;
  if (reason) {
    const found = BY_CODE[codeOf(reason)];
    if (found) {
      return {
        label: found.label ?? base.label,
        tone: found.tone ?? base.tone,
        words: state === "pending" && !SELF_HEALING.has(codeOf(reason)) ? `Waiting: ${lowerFirst(found.words)}` : found.words,
        action: found.action,
      };
    }
  }
  if (state !== "pending" && member?.status && member.status !== "Active")
    return { ...base, words: `${base.words} This student is ${member.status.toLowerCase()} in the course.`, action: "Nothing to do unless they rejoin the course." };
  return base;
}

/** What the class list adds to a refusal by the LMS (`explainNotGradable`'s words), and what to do then. */
const CLASS_LIST: Record<string, { words: string; action: string } | "test"> = {
  "a test user": "test",
  "left the course": { words: "The class list says this person left the course.", action: "Nothing to do unless they rejoin the course." },
  "not a learner in this course": { words: "The class list says this person is not a student in this course.", action: "Nothing to do: only students receive grades." },
  "not on the roster": {
    words: "This person is not on the class list.",
    action: "If they should be graded, check in your LMS that they are enrolled as a student.",
  },
};

/** A refusal (`not_gradable`) explained with what the class list says about the person, when it says anything. */
export function withClassList(e: Explanation, why: string | null): Explanation {
  const known = why ? CLASS_LIST[why] : undefined;
  if (!known) return e;
  if (known === "test") return { ...e, ...TEST_STUDENT };
  return { ...e, words: `${e.words} ${known.words}`, action: known.action };
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** One attempt to send a grade (`sync_attempts.outcome`), as the teacher's "Last attempt" column says it. */
const ATTEMPT_WORDS: Record<string, string> = {
  sent: "sent",
  retry_later: "your LMS was busy; Gradesync tries again",
  skipped: "not taken by your LMS",
  needs_relaunch: "your LMS refused Gradesync's connection",
  missing: "the gradebook column was missing",
  failed: "failed",
  overridden: "kept the grade set by hand",
};

/** An attempt's outcome: plain words for a teacher; for an operator the engine's outcome and the HTTP status. */
export function attemptWords(a: { outcome: string; httpStatus: number | null }, audience: Audience = "teacher"): string {
  if (audience === "admin") return `${a.outcome.replaceAll("_", " ")}${a.httpStatus ? ` (HTTP ${a.httpStatus})` : ""}`;
  return ATTEMPT_WORDS[a.outcome] ?? "tried";
}

/** The connection (service key) state of one assignment. */
export const KEY_WORDS = {
  active: { label: "Connected", tone: "ok", help: "Gradesync can send grades to your gradebook." },
  needs_relaunch: {
    label: "Needs a launch",
    tone: "bad",
    help: "Your LMS stopped accepting Gradesync's connection. Open this assignment once from your course to reconnect; waiting grades are kept and sent then.",
  },
  missing: {
    label: "No grade access",
    tone: "warn",
    help: "This assignment was opened without access to your gradebook. Make it a graded assignment in your LMS, then open it once from your course.",
  },
} as const satisfies Record<string, { label: string; tone: Tone; help: string }>;

/** The gradebook column (line item) state of one assignment. */
export const LINE_ITEM_WORDS = {
  ok: { label: "Column found", tone: "ok", help: "Grades go to this column." },
  unresolved: { label: "Not looked up yet", tone: "muted", help: "Gradesync finds or creates the column at the first sync." },
  missing: { label: "Column missing", tone: "bad", help: "The column was deleted or the course ended. Restore it, then open the assignment again." },
} as const satisfies Record<string, { label: string; tone: Tone; help: string }>;

const RUN_WORDS: Record<string, { label: string; tone: Tone }> = {
  running: { label: "Running", tone: "muted" },
  completed: { label: "Completed", tone: "ok" },
  partial: { label: "Partly done", tone: "warn" },
  failed: { label: "Failed", tone: "bad" },
};

/** Outcome of a run, for the "last runs" lists; an outcome not listed reads as still running. */
export function runOutcomeWords(outcome: string): { label: string; tone: Tone } {
  return RUN_WORDS[outcome] ?? RUN_WORDS.running;
}

const RUN_KIND_WORDS: Record<string, string> = {
  "push-grades": "Grade sync",
  "retry-failed": "Retry of failed grades",
  backfill: "Re-send (backfill)",
  "refresh-rosters": "Class list refresh",
};

/** Said of a run an operator started (`npm run job`, `/admin`): the teacher knows them as the school's administrator. */
const BY_ADMINISTRATOR = "started by your school's administrator";

const PUSH_TRIGGER_WORDS: Record<string, string> = {
  manual: "a teacher pressed Sync now",
  cron: "nightly",
  inngest: "scheduled",
  debounce: "after new scores",
  webhook: "after new scores",
  cli: BY_ADMINISTRATOR,
  admin: BY_ADMINISTRATOR,
};

export interface RunForWords {
  kind: string;
  trigger: string;
  counts: Record<string, number>;
  /** The run covered every course (a nightly or operator's run), not only this one: its counts are the school's. */
  wholeSchool?: boolean;
}

/**
 * A run for the teacher's "recent syncs": what ran, why, and what it did. Triggers and counts mean
 * different things per kind — a roster refresh's `debounce` follows a launch, not new scores, an
 * operator's backfill is `manual` too, and a roster's `skipped` is not a grade left unsent.
 */
export function runWords(run: RunForWords): { kind: string; trigger: string | null; counts: string } {
  const n = (k: string) => run.counts[k] ?? 0;
  const kind = RUN_KIND_WORDS[run.kind] ?? "Grade sync";
  if (run.kind === "refresh-rosters") {
    const trigger = run.trigger === "debounce" ? "after a teacher opened the course" : run.trigger === "cron" || run.trigger === "inngest" ? "scheduled" : BY_ADMINISTRATOR;
    const counts = n("refreshed")
      ? `${n("members")} ${n("members") === 1 ? "member" : "members"} read from your LMS`
      : n("failed")
        ? "your LMS did not send the class list; it is tried again later"
        : "not read (still fresh, or your LMS does not share it)";
    return { kind, trigger, counts };
  }
  const trigger = run.kind === "backfill" ? BY_ADMINISTRATOR : (PUSH_TRIGGER_WORDS[run.trigger] ?? null);
  const parts = [`${n("sent")} sent`];
  if (n("failed")) parts.push(`${n("failed")} failed`);
  if (n("skipped")) parts.push(`${n("skipped")} not sent`);
  if (n("unreachable")) parts.push("your LMS could not be reached");
  // A run's pending count is its courses' after it: only this course's is this teacher's.
  if (n("pending") && !run.wholeSchool) parts.push(`${n("pending")} still waiting`);
  return { kind, trigger, counts: `${parts.join(", ")}${run.wholeSchool ? " across all courses" : ""}` };
}
