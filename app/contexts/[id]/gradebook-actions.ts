"use server";
/**
 * The teacher's say over their gradebook: "Send Gradesync's score" over grades a person set in the
 * LMS (exactly the rows and values the page showed), and pausing this assignment's sending. Access is
 * re-checked from the form on every call, as for the other buttons (actions.ts).
 */
import { refresh } from "next/cache";
import { z } from "zod";
import { ACCESS_WORDS, actionAccess } from "@/app/_lib/action-session";
import { field, formPayload, UNREADABLE_FORM } from "@/app/_lib/form-payload";
import { requestOverwrite, requestPause } from "@/lib/jobs/requests";
import { errorFields, log } from "@/lib/log";
import { ltiId } from "@/lib/validation";
import { CHANGES_SHOWN } from "@/lib/views/gradebook-changes";

export interface GradebookActionState {
  tone: "ok" | "warn" | "bad" | "muted";
  message: string;
}

const score = z.number().finite().nullable();
/** One `shown` field per row the teacher confirmed: {"u": userId, "s": LMS score, "m": LMS maximum}. */
const shownSchema = z.array(z.strictObject({ u: ltiId(), s: score, m: score })).min(1).max(CHANGES_SHOWN);

function shownRows(form: FormData) {
  try {
    const parsed = shownSchema.safeParse(form.getAll("shown").map((v) => (typeof v === "string" ? JSON.parse(v) : null)));
    return parsed.success ? parsed.data.map((r) => ({ userId: r.u, lmsScore: r.s, lmsMaximum: r.m })) : null;
  } catch {
    return null;
  }
}

const students = (n: number) => `${n} ${n === 1 ? "student" : "students"}`;

export async function overwriteAction(_prev: GradebookActionState, payload: FormData): Promise<GradebookActionState> {
  const form = formPayload(payload);
  if (!form) return { tone: "bad", message: UNREADABLE_FORM };
  const shown = shownRows(form);
  if (!shown) return { tone: "bad", message: "This list could not be read. Reload the page, then choose again." };
  let linkRef: string | undefined;
  try {
    const access = await actionAccess(form, "teacher");
    if (!access.ok) return { tone: "bad", message: ACCESS_WORDS[access.error] };
    linkRef = access.view.id;
    const r = await requestOverwrite(access.view.id, shown);
    refresh();
    const left = r.changed.length
      ? ` ${students(r.changed.length)} changed again in the gradebook since this page was shown, so ${r.changed.length === 1 ? "that grade was" : "those grades were"} left as they are: look again below.`
      : "";
    if (r.overwritten === 0) return { tone: "warn", message: `Nothing was sent.${left}` };
    const paused = access.view.paused ? " Sending is paused: it goes to your gradebook when sending resumes." : "";
    const sent = r.push?.status === "done" ? r.push.summary.counts.sent : null;
    const done =
      sent === null || paused
        ? `Gradesync's score will replace the gradebook's for ${students(r.overwritten)}.`
        : `Gradesync's score replaced the gradebook's for ${students(Math.min(sent, r.overwritten))}.`;
    return { tone: left ? "warn" : "ok", message: `${done}${paused}${left}` };
  } catch (error) {
    log.error("teacher.overwrite_failed", { resourceLinkRef: linkRef, ...errorFields(error) });
    return { tone: "bad", message: "Gradesync's scores could not be sent just now. Nothing changed in your gradebook; try again in a few minutes." };
  }
}

export async function pauseAction(_prev: GradebookActionState, payload: FormData): Promise<GradebookActionState> {
  const form = formPayload(payload);
  if (!form) return { tone: "bad", message: UNREADABLE_FORM };
  const want = field(form, "pause");
  if (want !== "pause" && want !== "resume") return { tone: "bad", message: "Choose to pause or to resume, then press the button again." };
  let linkRef: string | undefined;
  try {
    const access = await actionAccess(form, "teacher");
    if (!access.ok) return { tone: "bad", message: ACCESS_WORDS[access.error] };
    linkRef = access.view.id;
    const r = await requestPause({ linkRef: access.view.id }, want === "pause");
    refresh();
    if (want === "pause") return { tone: "ok", message: "Paused: scores are still recorded here and nothing is sent to your gradebook until you resume." };
    if (access.view.platform.paused) return { tone: "warn", message: "Resumed here, but your school's administrator has paused sending to this LMS: grades wait until they resume it." };
    return { tone: "ok", message: r.pushed ? "Resumed: the waiting grades are being sent now." : "Resumed: new grades go to your gradebook again." };
  } catch (error) {
    log.error("teacher.pause_failed", { resourceLinkRef: linkRef, ...errorFields(error) });
    return { tone: "bad", message: "That could not be saved just now. Nothing changed; try again in a few minutes." };
  }
}
