"use server";
/**
 * Operator actions. Next refuses a server action whose Origin is not this host, and /admin's cookie
 * is SameSite=Strict; each action still re-checks access itself.
 */
import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { z } from "zod";
import { allowed, currentAdminAccess } from "@/app/_lib/admin";
import { field, formPayload, UNREADABLE_FORM } from "@/app/_lib/form-payload";
import { env } from "@/lib/env";
import { previewBackfill, type BackfillListing } from "@/lib/grades/backfill";
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

export interface BackfillState {
  step: "edit" | "preview" | "done";
  error: string | null;
  selector: { platformId: string; contextId: string; resourceLinkId: string; since: string };
  wouldSend?: number;
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
  const echo = { platformId: raw.platformId, contextId: raw.contextId ?? "", resourceLinkId: raw.resourceLinkId ?? "", since: raw.since ?? "" };
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
  });
  if (!selector.success) return { echo, error: selector.error.issues[0]?.path[0] === "since" ? SINCE_HINT : "Check the fields" } as const;
  return { echo, selector: selector.data } as const;
}

const EMPTY_SELECTOR: BackfillState["selector"] = { platformId: "", contextId: "", resourceLinkId: "", since: "" };

/** The previous answer's fields, when the previous state is one this form made. */
function previousSelector(prev: unknown): BackfillState["selector"] {
  const s = (prev as Partial<BackfillState> | null)?.selector as Record<string, unknown> | undefined;
  const ok = s && Object.keys(EMPTY_SELECTOR).every((k) => typeof s[k] === "string");
  return ok ? (s as BackfillState["selector"]) : EMPTY_SELECTOR;
}

export async function backfillAction(prev: BackfillState, payload: FormData): Promise<BackfillState> {
  const form = formPayload(payload);
  if (!form) return { step: "edit", error: UNREADABLE_FORM, selector: EMPTY_SELECTOR };
  if (!allowed(await currentAdminAccess())) return { step: "edit", error: "Sign in again.", selector: previousSelector(prev) };
  const read = readSelector(form);
  if ("error" in read) return { step: "edit", error: read.error ?? null, selector: read.echo };
  const dryRun = async (error: string | null): Promise<BackfillState> => {
    const preview = await previewBackfill(await getDb(), read.selector);
    return { step: "preview", error, selector: read.echo, wouldSend: preview.wouldSend, rows: preview.rows.slice(0, 50) };
  };
  if (field(form, "intent") !== "run") return dryRun(null);
  // The confirmation stands for the dry run the operator saw: fields edited after it (a link id
  // cleared, a platform changed) would otherwise re-send a selection nobody counted.
  if (field(form, "previewed") !== selectorKey(read.echo)) return dryRun("The fields changed after the dry run. Check this dry run, then confirm again.");
  if (field(form, "confirm") !== "yes") return dryRun("Tick the box to confirm you understand that this overwrites grades changed by hand.");
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
