"use server";
/**
 * The operator's buttons on /admin besides backfill: pause or resume a platform, set or clear its
 * ceiling of requests in flight (as `npm run job -- pause|resume|platform` do), and reconcile now.
 * Each re-checks access, validates its form with zod, asks lib/jobs for the work, and answers a
 * state the form shows; revalidatePath re-renders the page's tables in the same answer, so the
 * result shows without a reload.
 */
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { allowed, currentAdminAccess } from "@/app/_lib/admin";
import { field, formPayload, UNREADABLE_FORM } from "@/app/_lib/form-payload";
import { getDb } from "@/lib/db/client";
import { AlreadyRunningError } from "@/lib/jobs/inline";
import { requestPause, requestReconcile } from "@/lib/jobs/requests";
import { errorFields, log } from "@/lib/log";
import { MAX_CEILING, setCeiling } from "@/lib/ltiaas/ceiling";
import { ltiId } from "@/lib/validation";

export interface OperatorState {
  ok: boolean | null;
  message: string | null;
}

/** An inner answer: `ran` when something was done (a run, a change), so the page has news. */
type Done = OperatorState & { ran?: boolean };

/** The answer, with the page's tables re-rendered in the same response when something was done. */
function refreshed({ ran, ...answer }: Done): OperatorState {
  if (ran ?? answer.ok) revalidatePath("/admin", "layout");
  return answer;
}

const SIGN_IN_AGAIN: OperatorState = { ok: false, message: "Sign in again (your admin sign-in has expired)." };

const LABELS: Record<string, string> = { platformId: "The platform id", intent: "The button", concurrency: "The ceiling" };

/** The values as zod reads them, or the first problem in words (named by its label; the value is not echoed). */
function check<T extends z.ZodTypeAny>(schema: T, values: Record<string, string | null>): { data: z.infer<T> } | { error: string } {
  const parsed = schema.safeParse(values);
  if (parsed.success) return { data: parsed.data };
  const issue = parsed.error.issues[0];
  return { error: `${LABELS[String(issue?.path[0])] ?? "A field"} ${issue?.message ?? "is not valid"}.` };
}

const pauseForm = z.object({ platformId: ltiId(), intent: z.enum(["pause", "resume"], { message: "must be Pause or Resume" }) });

export async function platformPauseAction(_prev: OperatorState, payload: FormData): Promise<OperatorState> {
  return refreshed(await platformPause(payload));
}

async function platformPause(payload: FormData): Promise<Done> {
  const form = formPayload(payload);
  if (!form) return { ok: false, message: UNREADABLE_FORM };
  if (!allowed(await currentAdminAccess())) return SIGN_IN_AGAIN;
  const read = check(pauseForm, { platformId: field(form, "platformId"), intent: field(form, "intent") });
  if ("error" in read) return { ok: false, message: read.error };
  const { platformId, intent } = read.data;
  try {
    const r = await requestPause({ platformId }, intent === "pause");
    if (!r.found) return { ok: false, message: `No platform “${platformId}”.` };
    if (intent === "pause")
      return { ok: true, message: r.changed ? `Paused ${platformId}: nothing is sent to it; scores are still recorded.` : `${platformId} was already paused.` };
    return {
      ok: true,
      message: r.changed ? `Resumed ${platformId}: ${r.pushed} ${r.pushed === 1 ? "course" : "courses"} with waiting scores pushed.` : `${platformId} was not paused.`,
    };
  } catch (error) {
    log.error("admin.pause_failed", { platformId, ...errorFields(error) });
    return { ok: false, message: `Could not ${intent} ${platformId}. See the server log.` };
  }
}

/** A ceiling typed in the form: "default" (PLATFORM_CONCURRENCY) or a whole number from 1 to MAX_CEILING. */
const ceilingValue = z
  .string()
  .regex(/^(default|\d{1,3})$/, `must be a whole number from 1 to ${MAX_CEILING}`)
  .transform((v) => (v === "default" ? null : Number(v)))
  .pipe(z.number().min(1, "must be at least 1").max(MAX_CEILING, `must be at most ${MAX_CEILING}`).nullable());
const ceilingForm = z.object({ platformId: ltiId(), concurrency: ceilingValue });

export async function platformCeilingAction(_prev: OperatorState, payload: FormData): Promise<OperatorState> {
  return refreshed(await platformCeiling(payload));
}

async function platformCeiling(payload: FormData): Promise<Done> {
  const form = formPayload(payload);
  if (!form) return { ok: false, message: UNREADABLE_FORM };
  if (!allowed(await currentAdminAccess())) return SIGN_IN_AGAIN;
  // "Use default" is its own button: the number typed beside it does not matter then.
  const value = field(form, "intent") === "default" ? "default" : (field(form, "concurrency") ?? "").trim();
  if (value === "") return { ok: false, message: `Type a ceiling from 1 to ${MAX_CEILING}, or press Use default.` };
  const read = check(ceilingForm, { platformId: field(form, "platformId"), concurrency: value });
  if ("error" in read) return { ok: false, message: read.error };
  const { platformId, concurrency } = read.data;
  try {
    const found = await setCeiling(await getDb(), platformId, concurrency);
    if (!found) return { ok: false, message: `No platform “${platformId}”.` };
    return {
      ok: true,
      message:
        concurrency === null
          ? `${platformId}: ceiling back to PLATFORM_CONCURRENCY.`
          : `${platformId}: at most ${concurrency} ${concurrency === 1 ? "request" : "requests"} in flight.`,
    };
  } catch (error) {
    log.error("admin.ceiling_failed", { platformId, ...errorFields(error) });
    return { ok: false, message: `Could not set the ceiling of ${platformId}. See the server log.` };
  }
}

export async function reconcileAction(_prev: OperatorState, payload: FormData): Promise<OperatorState> {
  return refreshed(await reconcile(payload));
}

async function reconcile(payload: FormData): Promise<Done> {
  if (!formPayload(payload)) return { ok: false, message: UNREADABLE_FORM };
  if (!allowed(await currentAdminAccess())) return SIGN_IN_AGAIN;
  try {
    const r = await requestReconcile();
    if (r.status === "queued") return { ok: true, message: "Reconcile queued: its result shows under Recent runs when it ends." };
    if (r.status !== "done") return { ok: true, message: "A reconcile is already running: its result shows under Recent runs when it ends." };
    const n = (k: string) => Number(r.summary.counts[k] ?? 0);
    const read = n("inSync") + n("differs") + n("missing");
    return {
      ok: r.summary.outcome !== "failed",
      ran: true,
      message:
        `Reconcile ${r.summary.outcome}: ${read} ${read === 1 ? "grade" : "grades"} read back — ${n("inSync")} in sync, ${n("differs")} changed by hand, ` +
        `${n("missing")} missing (${n("resent")} sent again), ${n("clipped")} clipped to the maximum` +
        // Links a reconcile could not read (paused, or no key or column): said, so a zero is not mistaken for "all fine".
        (n("unread") ? `; ${n("unread")} ${n("unread") === 1 ? "link" : "links"} not read (paused, or no key or column).` : "."),
    };
  } catch (error) {
    if (error instanceof AlreadyRunningError) return { ok: true, message: "A reconcile is already running: its result shows under Recent runs when it ends." };
    log.error("admin.reconcile_failed", errorFields(error));
    return { ok: false, message: "The reconcile could not run. See the server log." };
  }
}
