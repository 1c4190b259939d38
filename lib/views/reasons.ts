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
    action: "Nothing to do if that grade is right. To use Gradesync's score, enter it in your gradebook.",
  },
  none: { label: "No score yet", tone: "muted", words: "This student has not finished the activity.", action: "" },
};

/** Reason codes the engine writes, by prefix (the part before the first ":"). */
const BY_CODE: Record<string, Omit<Explanation, "label" | "tone"> & { tone?: Tone; label?: string }> = {
  not_gradable: {
    words: "Your LMS would not take this grade: it does not see this person as a student of the course, or it refused the score.",
    action: "Check that the person is enrolled as a student. Test students, teachers and dropped students cannot receive grades.",
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

/** Words for one student's row: state first, then the engine's reason, then what the roster says. */
export function explain(state: RowState, reason?: string | null, member?: MemberHint | null): Explanation {
  const base = BASE[state];
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
  if (state === "skipped" && member?.testUser) return { ...base, words: "This is a test student; LMSs do not keep their grades.", action: "Nothing to do." };
  if (state !== "pending" && member?.status && member.status !== "Active")
    return { ...base, words: `${base.words} This student is ${member.status.toLowerCase()} in the course.`, action: "Nothing to do unless they rejoin the course." };
  return base;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** The connection (service key) state of one assignment. */
export const KEY_WORDS = {
  active: { label: "Connected", tone: "ok", help: "Gradesync can send grades to your gradebook." },
  needs_relaunch: {
    label: "Needs a launch",
    tone: "bad",
    help: "The LMS stopped accepting our key. Open this assignment once from your course to reconnect; pending grades are kept and sent then.",
  },
  missing: { label: "No grade access", tone: "warn", help: "This link was launched without grade services. Check that the tool is placed as a graded assignment." },
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

const PUSH_TRIGGER_WORDS: Record<string, string> = {
  manual: "a teacher pressed Sync now",
  cron: "nightly",
  inngest: "scheduled",
  debounce: "after new scores",
  webhook: "after new scores",
  cli: "by an operator",
};

/**
 * A run for the teacher's "recent syncs": what ran, why, and what it did. Triggers and counts mean
 * different things per kind — a roster refresh's `debounce` follows a launch, not new scores, an
 * operator's backfill is `manual` too, and a roster's `skipped` is not a grade left unsent.
 */
export function runWords(run: { kind: string; trigger: string; counts: Record<string, number> }): { kind: string; trigger: string | null; counts: string } {
  const n = (k: string) => run.counts[k] ?? 0;
  const kind = RUN_KIND_WORDS[run.kind] ?? run.kind;
  if (run.kind === "refresh-rosters") {
    const trigger = run.trigger === "debounce" ? "after a teacher opened the course" : run.trigger === "cron" || run.trigger === "inngest" ? "scheduled" : "by an operator";
    const counts = n("refreshed")
      ? `${n("members")} ${n("members") === 1 ? "member" : "members"} read from your LMS`
      : n("failed")
        ? "your LMS did not send the class list; it is tried again later"
        : "not read (still fresh, or your LMS does not share it)";
    return { kind, trigger, counts };
  }
  const trigger = run.kind === "backfill" ? "by an operator" : (PUSH_TRIGGER_WORDS[run.trigger] ?? null);
  const parts = [`${n("sent")} sent`];
  if (n("failed")) parts.push(`${n("failed")} failed`);
  if (n("skipped")) parts.push(`${n("skipped")} not sent`);
  return { kind, trigger, counts: parts.join(", ") };
}
