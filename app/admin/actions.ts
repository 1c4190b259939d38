"use server";
/**
 * Operator actions. Next refuses a server action whose Origin is not this host, and /admin's cookie
 * is SameSite=Strict; each action still re-checks access itself.
 */
import { revalidatePath } from "next/cache";
import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { z } from "zod";
import { allowed, currentAdminAccess } from "@/app/_lib/admin";
import { field, formPayload, UNREADABLE_FORM } from "@/app/_lib/form-payload";
import { env } from "@/lib/env";
import { unknownSelectorPart, type BackfillListing } from "@/lib/grades/backfill";
import { getDb } from "@/lib/db/client";
import { backfillEventId, backfillJob, backfillSelectorSchema, type BackfillOutcome } from "@/lib/jobs/definitions/backfill";
import { dispatcher } from "@/lib/jobs/dispatch";
import { AlreadyRunningError } from "@/lib/jobs/inline";
import { errorFields, log } from "@/lib/log";
import { clientAddress, signInThrottle } from "@/lib/sign-in-throttle";
import { boundedDateMessage, ltiId } from "@/lib/validation";
import { ADMIN_COOKIE, adminCookieValue, tokenMatches } from "@/lib/session/admin-access";
import { selectorKey } from "./selector-key";

export interface SignInState {
  error: string | null;
}

export async function signInAction(_prev: SignInState, payload: FormData): Promise<SignInState> {
  const form = formPayload(payload);
  if (!form) return { error: UNREADABLE_FORM };
  const config = env();
  const token = config.adminToken;
  if (!token) return { error: "Sign-in is turned off: set ADMIN_TOKEN on the server." };
  // Checked before the token is even looked at: a guess made too early tells the guesser nothing.
  const attempt = signInThrottle(config.vercel).attempt(clientAddress(await headers()));
  if (!attempt.ok) return { error: `Too many failed sign-ins. Try again in ${attempt.retryAfterSeconds} s.` };
  const typed = field(form, "token");
  const right = typed !== null && typed !== "" && typed.length <= 1024 && tokenMatches(typed, token);
  attempt.done(right);
  if (!right) {
    // A failed guess costs the guesser a moment (the throttle is what bounds how many they make).
    await new Promise((r) => setTimeout(r, 300));
    return { error: "That token is not right." };
  }
  const { value, expires } = adminCookieValue(token);
  (await cookies()).set(ADMIN_COOKIE, value, { httpOnly: true, secure: true, sameSite: "strict", path: "/admin", expires });
  redirect("/admin");
}

export async function signOutAction(): Promise<void> {
  (await cookies()).delete({ name: ADMIN_COOKIE, path: "/admin" });
  redirect("/admin");
}

const formSelector = z.object({
  platformId: ltiId(),
  contextId: ltiId().optional(),
  resourceLinkId: ltiId().optional(),
  since: z.string().trim().max(40, "is not a date").optional(),
});
const FIELD_LABELS: Record<string, string> = { platformId: "Platform id", contextId: "Context id", resourceLinkId: "Resource link id", since: "“Since”" };
/** The form's `overwrite` box: ticked ("yes") or not (absent). */
const overwriteBox = z.enum(["yes"]).optional();

export interface BackfillState {
  step: "edit" | "preview" | "done";
  error: string | null;
  /** The fields as typed (`overwrite`: "yes" when the box was ticked). */
  selector: { platformId: string; contextId: string; resourceLinkId: string; since: string; overwrite?: string };
  wouldSend?: number;
  /** Selected rows whose LMS grade a person set (sent over only with `overwrite`). */
  overridden?: number;
  rows?: BackfillListing[];
  message?: string;
}

const SINCE_HINT = "“Since” must be a date, e.g. 2026-11-01 or 2026-11-01T00:00Z";

function readSelector(form: FormData) {
  const get = (k: string) => {
    const v = field(form, k);
    return v !== null && v.trim() ? v.trim() : undefined;
  };
  const raw = { platformId: get("platformId") ?? "", contextId: get("contextId"), resourceLinkId: get("resourceLinkId"), since: get("since") };
  const box = overwriteBox.safeParse(get("overwrite"));
  const overwrite = box.success && box.data === "yes";
  const echo = { platformId: raw.platformId, contextId: raw.contextId ?? "", resourceLinkId: raw.resourceLinkId ?? "", since: raw.since ?? "", overwrite: overwrite ? "yes" : "" };
  if (!box.success) return { echo, error: "The “overwrite” box could not be read. Reload the page and try again." } as const;
  const parsed = formSelector.safeParse(raw);
  if (!parsed.success) {
    // Named by its label, so the operator knows which field to fix (the value is never echoed).
    const issue = parsed.error.issues[0];
    const name = FIELD_LABELS[String(issue?.path[0])] ?? "A field";
    return { echo, error: `${name} ${issue?.message ?? "is not valid"}.` } as const;
  }
  let since: string | undefined;
  if (parsed.data.since) {
    const d = new Date(parsed.data.since);
    if (Number.isNaN(d.getTime())) return { echo, error: SINCE_HINT } as const;
    const outside = boundedDateMessage(d);
    if (outside) return { echo, error: `“Since” ${outside}.` } as const;
    since = d.toISOString();
  }
  // safeParse: a date JavaScript accepts may still not be one the job takes (year 99999 → "+099999-…").
  const selector = backfillSelectorSchema.safeParse({
    platformId: parsed.data.platformId,
    ...(parsed.data.contextId ? { contextId: parsed.data.contextId } : {}),
    ...(parsed.data.resourceLinkId ? { resourceLinkId: parsed.data.resourceLinkId } : {}),
    ...(since ? { since } : {}),
    ...(overwrite ? { overwrite: true } : {}),
  });
  if (!selector.success) return { echo, error: selector.error.issues[0]?.path[0] === "since" ? SINCE_HINT : "Check the fields" } as const;
  return { echo, selector: selector.data } as const;
}

const EMPTY_SELECTOR: BackfillState["selector"] = { platformId: "", contextId: "", resourceLinkId: "", since: "", overwrite: "" };
const SELECTOR_KEYS = ["platformId", "contextId", "resourceLinkId", "since"] as const;

/** The previous answer's fields, when the previous state is one this form made. */
function previousSelector(prev: unknown): BackfillState["selector"] {
  const s = (prev as Partial<BackfillState> | null)?.selector as Record<string, unknown> | undefined;
  const ok = s && SELECTOR_KEYS.every((k) => typeof s[k] === "string");
  return ok ? (s as BackfillState["selector"]) : EMPTY_SELECTOR;
}

/** A selector naming a platform, course or link Gradesync has never seen, in words (null: all known). */
async function unknownWords(s: { platformId: string; contextId?: string; resourceLinkId?: string }): Promise<string | null> {
  const part = await unknownSelectorPart(await getDb(), s);
  if (part === "platform") return `No platform with the id “${s.platformId}” has launched Gradesync. Check the platform id (the LTIAAS platform id, as in the Courses table).`;
  if (part === "context") return `Platform “${s.platformId}” has no course with the context id “${s.contextId}”. Check the context id.`;
  if (part === "resourceLink")
    return `No link with the resource link id “${s.resourceLinkId}” on platform “${s.platformId}”${s.contextId ? ` in course “${s.contextId}”` : ""}. Check the resource link id.`;
  return null;
}

export async function backfillAction(prev: BackfillState, payload: FormData): Promise<BackfillState> {
  const answer = await backfill(prev, payload);
  // A dry run or a run was started: the page's runs and courses are re-rendered in the same answer.
  if (answer.step !== "edit") revalidatePath("/admin");
  return answer;
}

async function backfill(prev: BackfillState, payload: FormData): Promise<BackfillState> {
  const form = formPayload(payload);
  if (!form) return { step: "edit", error: UNREADABLE_FORM, selector: EMPTY_SELECTOR };
  if (!allowed(await currentAdminAccess())) return { step: "edit", error: "Sign in again.", selector: previousSelector(prev) };
  const read = readSelector(form);
  if ("error" in read) return { step: "edit", error: read.error ?? null, selector: read.echo };
  const unknown = await unknownWords(read.selector);
  if (unknown) return { step: "edit", error: unknown, selector: read.echo };
  // The dry run is a run of the backfill job (marked a dry run in Recent runs): it reads the selected
  // line items now, so `overridden` counts grades a person set since Gradesync last looked.
  const dryRun = async (error: string | null): Promise<BackfillState> => {
    try {
      const r = await dispatcher().enqueue(backfillJob.kind, { ...read.selector, dryRun: true }, { trigger: "manual" });
      const outcome = r.mode === "inline" ? (r.run.backfill as BackfillOutcome | undefined) : undefined;
      if (!outcome) return { step: "edit", error: "The dry run did not answer. See the server log.", selector: read.echo };
      return { step: "preview", error, selector: read.echo, wouldSend: outcome.wouldSend ?? 0, overridden: outcome.overridden ?? 0, rows: (outcome.rows ?? []).slice(0, 50) };
    } catch (e) {
      log.error("admin.backfill_preview_failed", errorFields(e));
      return { step: "edit", error: "The dry run could not run. See the server log.", selector: read.echo };
    }
  };
  if (field(form, "intent") !== "run") return dryRun(null);
  // The confirmation stands for the dry run the operator saw: fields edited after it (a link id
  // cleared, a platform changed, the overwrite box ticked) would otherwise re-send a selection nobody counted.
  if (field(form, "previewed") !== selectorKey(read.echo)) return dryRun("The fields changed after the dry run. Check this dry run, then confirm again.");
  if (field(form, "confirm") !== "yes")
    return dryRun(
      read.selector.overwrite
        ? "Tick the box to confirm that this replaces grades teachers set by hand in the LMS."
        : "Tick the box to confirm that these scores are sent again.",
    );
  const request = { ...read.selector, dryRun: false };
  try {
    const id = backfillEventId(request);
    const r = await dispatcher().enqueue(backfillJob.kind, request, { trigger: "manual", id });
    if (r.mode === "inngest") return { step: "done", error: null, selector: read.echo, message: `Backfill queued (event ${id}).` };
    const { run } = r;
    const revised = (run.backfill as BackfillOutcome | undefined)?.revised ?? 0;
    return {
      step: "done",
      error: null,
      selector: read.echo,
      message: `Backfill ${run.outcome}: ${revised} re-sent as new revisions, ${run.counts.sent} sent, ${run.counts.failed} failed, ${run.counts.pending} still waiting.`,
    };
  } catch (error) {
    if (error instanceof AlreadyRunningError) return { step: "preview", error: "A backfill is already running; wait for it to finish.", selector: read.echo };
    log.error("admin.backfill_failed", errorFields(error));
    return { step: "preview", error: "The backfill could not run. See the server log.", selector: read.echo };
  }
}
