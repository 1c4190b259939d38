"use server";
/**
 * The teacher's buttons. Next checks that a server action's Origin matches the Host (the tool's own
 * origin, also inside the LMS iframe, since the form posts to the tool), which stops cross-site
 * posts; on top of that every call re-checks the session from the form and the current membership.
 */
import { refresh } from "next/cache";
import { ACCESS_WORDS, actionAccess } from "@/app/_lib/action-session";
import { field, formPayload, UNREADABLE_FORM } from "@/app/_lib/form-payload";
import { getDb } from "@/lib/db/client";
import { keepAttemptSchema, setKeepAttempt, type KeepAttempt } from "@/lib/grades/retakes";
import { requestRetryFailed, requestSync, type SyncRequestResult } from "@/lib/jobs/requests";
import { errorFields, log } from "@/lib/log";
import { nextSeq } from "./answers";

export interface SyncActionState {
  tone: "ok" | "warn" | "bad" | "muted";
  message: string;
  /** When the answer was made (see answers.ts): orders the two buttons' answers, and changes on every answer. */
  seq: number;
}

function describe(result: SyncRequestResult, what: "sync" | "retry"): Omit<SyncActionState, "seq"> {
  const resetWords = what === "retry" ? `${result.reset ?? 0} failed ${result.reset === 1 ? "grade" : "grades"} queued again. ` : "";
  if (result.status === "queued") return { tone: "ok", message: `${resetWords}Sync started; this page shows the result in a minute or two.` };
  if (result.status === "running_elsewhere") return { tone: "muted", message: `${resetWords}A sync of this course is already running; it sends these grades too.` };
  const c = result.summary.counts;
  const parts = [`${c.sent} sent`];
  if (c.skipped) parts.push(`${c.skipped} not sent`);
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.pending) parts.push(`${c.pending} still waiting`);
  const joined = result.joined ? "That sync was already running: " : "Sync finished: ";
  const tone = c.failed ? "bad" : c.pending ? "warn" : "ok";
  return { tone, message: `${resetWords}${joined}${parts.join(", ")}.` };
}

async function run(what: "sync" | "retry", prev: SyncActionState, payload: FormData): Promise<SyncActionState> {
  const prevSeq = (prev as Partial<SyncActionState> | null)?.seq;
  const seq = nextSeq(typeof prevSeq === "number" && Number.isFinite(prevSeq) ? prevSeq : 0);
  const form = formPayload(payload);
  if (!form) return { tone: "bad", message: UNREADABLE_FORM, seq };
  let contextRef: string | undefined;
  try {
    // Inside the try: the access check reads the database, which may be down.
    const access = await actionAccess(form, "teacher");
    if (!access.ok) return { tone: "bad", message: ACCESS_WORDS[access.error], seq };
    contextRef = access.view.contextRef;
    const result = what === "sync" ? await requestSync(access.view.contextRef) : await requestRetryFailed(access.view.contextRef);
    refresh();
    return { ...describe(result, what), seq };
  } catch (error) {
    log.error("teacher.sync_failed", { contextRef, ...errorFields(error) });
    return { tone: "bad", message: "The sync could not run just now. Your grades are kept; try again in a few minutes.", seq };
  }
}

export async function syncNowAction(prev: SyncActionState, form: FormData): Promise<SyncActionState> {
  return run("sync", prev, form);
}

export async function retryFailedAction(prev: SyncActionState, form: FormData): Promise<SyncActionState> {
  return run("retry", prev, form);
}

export interface KeepAttemptState {
  tone: "ok" | "bad" | "muted";
  message: string;
}

const KEEP_SAVED: Record<KeepAttempt, string> = {
  best: "Saved: each student's best attempt counts, from their next attempt on.",
  latest: "Saved: each student's latest attempt counts, from their next attempt on.",
};

/** Which quiz attempt counts on this link (a retake never lowers a grade unless the teacher chose "latest"). */
export async function keepAttemptAction(_prev: KeepAttemptState, payload: FormData): Promise<KeepAttemptState> {
  const form = formPayload(payload);
  if (!form) return { tone: "bad", message: UNREADABLE_FORM };
  const keep = keepAttemptSchema.safeParse(field(form, "keep"));
  if (!keep.success) return { tone: "bad", message: "Choose the best or the latest attempt, then save." };
  let linkRef: string | undefined;
  try {
    const access = await actionAccess(form, "teacher");
    if (!access.ok) return { tone: "bad", message: ACCESS_WORDS[access.error] };
    linkRef = access.view.id;
    await setKeepAttempt(await getDb(), access.view.id, keep.data);
    refresh();
    return { tone: "ok", message: KEEP_SAVED[keep.data] };
  } catch (error) {
    log.error("teacher.keep_attempt_failed", { resourceLinkRef: linkRef, ...errorFields(error) });
    return { tone: "bad", message: "Your choice could not be saved just now. Nothing changed; try again in a few minutes." };
  }
}
