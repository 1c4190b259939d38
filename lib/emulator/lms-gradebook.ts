/**
 * The LMS simulator's gradebook page, <base>/lms/gradebook?platformId=&contextId=: what a teacher and
 * an LMS administrator can do by hand. Plain forms posting back to the page (then 303 to it):
 * - action=grade (lineItemId, userId, value, do=set|clear): a hand edit of one cell;
 * - action=lineItem (lineItemId, due = datetime-local in UTC or empty, dropZeroScores / discardScores
 *   = inherit|on|off): a column's due date and knobs;
 * - action=lms (family = canvas|moodle|d2l|generic|auto, dropZeroScores, discardScores = on when checked);
 * - action=throttle (mode = none|canvas|d2l, the bucket's numbers, blank = default; relayHeaders checked).
 * Tests drive the same things through the Emulator controls.
 */
import { z } from "zod";
import { escapeHtml as e } from "../html";
import { DEMO_COURSES, DEMO_PLATFORMS, ensureDemoCourse } from "./demo";
import { familyFromCode, isLate, isListed } from "./gradebook";
import { htmlPage } from "./http";
import { layout } from "./lms-layout";
import { isGradableEnrollment } from "./roles";
import type { LmsState, StoredLineItem } from "./state";
import { CANVAS_BUCKET_DEFAULTS, D2L_BUCKET_DEFAULTS } from "./throttle";
import type { Emulator, LmsFamily, ThrottleInput } from "./types";

export interface GradebookPageContext {
  emulator: Emulator;
  state: LmsState;
  base: string;
}

export const isGradebookPath = (path: string) => path === "/lms/gradebook";

const FAMILY_NAMES: Record<LmsFamily, string> = { canvas: "Canvas", moodle: "Moodle", d2l: "D2L Brightspace", generic: "Generic" };

const number = z
  .string()
  .trim()
  .transform((v, c) => {
    if (v === "") return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) {
      c.addIssue({ code: "custom", message: `"${v}" is not a number of 0 or more` });
      return z.NEVER;
    }
    return n;
  });
const tri = z.enum(["inherit", "on", "off"]).default("inherit");

const forms = z.discriminatedUnion("action", [
  z.object({
    action: z.literal("grade"),
    lineItemId: z.string().min(1),
    userId: z.string().min(1, "Which student?"),
    do: z.enum(["set", "clear"]),
    value: number.optional(),
  }),
  z.object({
    action: z.literal("lineItem"),
    lineItemId: z.string().min(1),
    due: z
      .string()
      .trim()
      .regex(/^$|^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/, "The due date must be a date and time (UTC)")
      .default(""),
    dropZeroScores: tri,
    discardScores: tri,
  }),
  z.object({
    action: z.literal("lms"),
    family: z.enum(["auto", "canvas", "moodle", "d2l", "generic"]),
    dropZeroScores: z.literal("on").optional(),
    discardScores: z.literal("on").optional(),
  }),
  z.object({
    action: z.literal("throttle"),
    mode: z.enum(["none", "canvas", "d2l"]),
    relayHeaders: z.literal("on").optional(),
    highWaterMark: number.optional(),
    maximum: number.optional(),
    outflowPerSecond: number.optional(),
    upFrontCost: number.optional(),
    requestCost: number.optional(),
    credits: number.optional(),
    windowSeconds: number.optional(),
    costPerCall: number.optional(),
  }),
]);

type Form = z.infer<typeof forms>;

const pageUrl = (base: string, platformId: string, contextId: string, notice?: string) =>
  `${base}/lms/gradebook?${new URLSearchParams({ platformId, contextId, ...(notice && { notice }) })}`;

export async function gradebookPage(req: Request, url: URL, ctx: GradebookPageContext): Promise<Response> {
  const platformId = url.searchParams.get("platformId") ?? "";
  const contextId = url.searchParams.get("contextId") ?? "";
  if (!platformId || !contextId) {
    return htmlPage(layout("Gradebook", `<main><p class="error" role="alert">Say which course: ?platformId=…&amp;contextId=…</p></main>`), 400);
  }
  const demo = DEMO_COURSES.find((c) => c.platformId === platformId && c.contextId === contextId);
  if (demo) ensureDemoCourse(ctx.state, demo, ctx.base);
  if (!ctx.state.findCourse(platformId, contextId)) {
    return htmlPage(layout("Gradebook", `<main><p class="error" role="alert">No course ${e(contextId)} on platform ${e(platformId)}.</p></main>`), 404);
  }
  if (req.method === "GET") return htmlPage(render(platformId, contextId, ctx, url.searchParams.get("notice") ?? undefined));
  if (req.method !== "POST") return htmlPage(layout("Method not allowed", "<p>Use GET or POST.</p>"), 405);

  const parsed = forms.safeParse(Object.fromEntries(new URLSearchParams(await req.text())));
  const fail = (message: string) => htmlPage(render(platformId, contextId, ctx, undefined, message), 400);
  if (!parsed.success) return fail(parsed.error.issues.map((i) => `${i.path.join(".") || "form"}: ${i.message}`).join("; "));
  let notice: string;
  try {
    const result = apply(parsed.data, platformId, contextId, ctx);
    if (typeof result !== "string") return fail(result.error);
    notice = result;
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  return new Response(null, { status: 303, headers: { location: pageUrl(ctx.base, platformId, contextId, notice) } });
}

/** Carries out a form; the notice to show, or what was wrong. */
function apply(form: Form, platformId: string, contextId: string, ctx: GradebookPageContext): string | { error: string } {
  const { emulator, state } = ctx;
  const columnOf = (id: string) => state.lineItems(platformId, contextId).find((i) => i.id === id);
  switch (form.action) {
    case "grade": {
      const item = columnOf(form.lineItemId);
      if (!item) return { error: "That gradebook column is gone." };
      const who = state.findCourse(platformId, contextId)?.members.get(form.userId)?.name ?? form.userId;
      if (form.do === "clear") {
        emulator.setHandGrade(item.id, form.userId, null);
        return `Cleared ${who}'s grade in ${item.label}.`;
      }
      if (form.value === undefined) return { error: "Type a grade to set, or press Clear." };
      emulator.setHandGrade(item.id, form.userId, form.value);
      return `Set ${who}'s grade in ${item.label} to ${form.value} by hand.`;
    }
    case "lineItem": {
      const item = columnOf(form.lineItemId);
      if (!item) return { error: "That gradebook column is gone." };
      const due = form.due === "" ? null : `${form.due.length === 16 ? `${form.due}:00` : form.due}.000Z`;
      if (due !== null && Number.isNaN(Date.parse(due))) return { error: `Not a date: ${form.due}` };
      emulator.setDueDate(item.id, due);
      const knob = (v: "inherit" | "on" | "off") => (v === "inherit" ? null : v === "on");
      emulator.setGradebookKnobs({ lineItemId: item.id }, { dropZeroScores: knob(form.dropZeroScores), discardScores: knob(form.discardScores) });
      return `Saved ${item.label}.`;
    }
    case "lms": {
      emulator.setLmsFamily(platformId, form.family === "auto" ? null : form.family);
      emulator.setGradebookKnobs({ platformId }, { dropZeroScores: form.dropZeroScores === "on", discardScores: form.discardScores === "on" });
      return `The platform now plays ${FAMILY_NAMES[emulator.lmsFamily(platformId)]}.`;
    }
    case "throttle": {
      const relayHeaders = form.relayHeaders === "on";
      const input: ThrottleInput =
        form.mode === "canvas"
          ? {
              mode: "canvas",
              relayHeaders,
              highWaterMark: form.highWaterMark,
              maximum: form.maximum,
              outflowPerSecond: form.outflowPerSecond,
              upFrontCost: form.upFrontCost,
              requestCost: form.requestCost,
            }
          : form.mode === "d2l"
            ? { mode: "d2l", relayHeaders, credits: form.credits, windowSeconds: form.windowSeconds, costPerCall: form.costPerCall }
            : { mode: "none" };
      emulator.setThrottle(platformId, input);
      return form.mode === "none" ? "No throttle." : `Throttle: ${form.mode}${relayHeaders ? "" : ", rate headers not relayed"}.`;
    }
  }
}

const points = (n: number) => String(Math.round(n * 100) / 100);

/** The due date as a datetime-local value in UTC. */
const dueValue = (item: StoredLineItem) => {
  if (!item.endDateTime) return "";
  const at = Date.parse(item.endDateTime);
  return Number.isNaN(at) ? "" : new Date(at).toISOString().slice(0, 16);
};

function render(platformId: string, contextId: string, ctx: GradebookPageContext, notice?: string, error?: string): string {
  const { emulator, state, base } = ctx;
  const platform = state.platforms.get(platformId);
  const course = state.findCourse(platformId, contextId)!;
  const family = emulator.lmsFamily(platformId);
  const items = state.lineItems(platformId, contextId);
  const learners = state.members(platformId, contextId).filter((m) => isGradableEnrollment(m.roles));
  const action = e(pageUrl(base, platformId, contextId));
  const sel = (on: boolean) => (on ? " selected" : "");
  const checked = (on: boolean | undefined) => (on ? " checked" : "");
  const hidden = (name: string, value: string) => `<input type="hidden" name="${name}" value="${e(value)}">`;

  const cell = (item: StoredLineItem, userId: string) => {
    const c = state.cells.get(item.id)?.get(userId);
    const tags: string[] = [];
    let shown = "–";
    if (c) {
      if (c.points !== undefined) shown = points(c.points);
      else if (c.cleared) shown = "cleared";
      if (c.setBy === "person") tags.push(`<span class="tag hand">by hand</span>`);
      if (isLate(item, c, family)) tags.push(`<span class="tag late">late</span>`);
      if (c.clipped) tags.push(`<span class="tag">clipped</span>`);
      if (family === "canvas" && c.attempts > 0) tags.push(`<span class="tag">${c.attempts} attempt${c.attempts === 1 ? "" : "s"}</span>`);
      if (!isListed(c, family) && c.points !== undefined) tags.push(`<span class="tag" title="AGS results do not list it yet">not in results</span>`);
    }
    const label = `Grade for ${userId} in ${item.label}`;
    return `<td><span class="value">${e(shown)}</span>${tags.join("")}
<form class="inline" method="post" action="${action}">${hidden("action", "grade")}${hidden("lineItemId", item.id)}${hidden("userId", userId)}
<input type="number" name="value" min="0" step="any" aria-label="${e(label)}" value="${c?.points !== undefined ? e(points(c.points)) : ""}">
<button name="do" value="set">Set</button><button name="do" value="clear">Clear</button></form></td>`;
  };

  const gradebook = items.length
    ? `<table><thead><tr><th>Student</th>${items.map((i) => `<th>${e(i.label)} <span class="muted">/ ${e(i.scoreMaximum)}</span></th>`).join("")}</tr></thead><tbody>${learners
        .map((m) => `<tr><td>${e(m.name ?? m.userId)}</td>${items.map((i) => cell(i, m.userId)).join("")}</tr>`)
        .join("")}</tbody></table>`
    : `<p class="muted">No gradebook columns yet: launch the tool with a line item, or let it create one.</p>`;

  const triSelect = (name: string, value: boolean | undefined) =>
    `<select name="${name}"><option value="inherit"${sel(value === undefined)}>as the platform</option><option value="on"${sel(value === true)}>on</option><option value="off"${sel(value === false)}>off</option></select>`;
  const columns = items
    .map(
      (i) => `<tr><td>${e(i.label)}</td><td>${e(i.endDateTime ?? "none")}</td><td><form class="inline" method="post" action="${action}">${hidden("action", "lineItem")}${hidden("lineItemId", i.id)}
<label>Due (UTC) <input type="datetime-local" name="due" value="${e(dueValue(i))}"></label>
<label>Drop 0 ${triSelect("dropZeroScores", i.knobs?.dropZeroScores)}</label>
<label>Discard ${triSelect("discardScores", i.knobs?.discardScores)}</label><button>Save</button></form></td></tr>`,
    )
    .join("");

  const settings = state.settings.get(platformId);
  const detected = familyFromCode(platform?.productFamilyCode);
  const familyForm = `<form class="settings" method="post" action="${action}">${hidden("action", "lms")}
<label>Plays <select name="family"><option value="auto"${sel(settings?.family === undefined)}>as its productFamilyCode (${e(platform?.productFamilyCode ?? "none")}: ${e(FAMILY_NAMES[detected])})</option>${(
    Object.keys(FAMILY_NAMES) as LmsFamily[]
  )
    .map((f) => `<option value="${f}"${sel(settings?.family === f)}>${e(FAMILY_NAMES[f])}</option>`)
    .join("")}</select></label>
<label><input type="checkbox" name="dropZeroScores" value="on"${checked(settings?.knobs.dropZeroScores)}> Drop scores of 0</label>
<label><input type="checkbox" name="discardScores" value="on"${checked(settings?.knobs.discardScores)}> Accept and discard (concluded course)</label>
<button>Save</button></form>`;

  const t = emulator.throttle(platformId);
  const s = t.settings;
  const num = (name: string, value: number | undefined, fallback: number) =>
    `<input type="number" name="${name}" min="0" step="any" value="${value === undefined ? "" : e(value)}" placeholder="${e(fallback)}">`;
  const canvas = s.mode === "canvas" ? s : undefined;
  const d2l = s.mode === "d2l" ? s : undefined;
  const throttled = emulator.stats().throttledByPlatform[platformId] ?? 0;
  const throttleForm = `<form class="settings" method="post" action="${action}">${hidden("action", "throttle")}
<label>Mode <select name="mode"><option value="none"${sel(s.mode === "none")}>none</option><option value="canvas"${sel(s.mode === "canvas")}>Canvas leaky bucket (403)</option><option value="d2l"${sel(s.mode === "d2l")}>D2L credits (429)</option></select></label>
<label><input type="checkbox" name="relayHeaders" value="on"${checked(t.relayHeaders)}> LTIAAS relays the rate headers</label><br>
<span class="muted">Canvas:</span>
<label>high-water mark ${num("highWaterMark", canvas?.highWaterMark, CANVAS_BUCKET_DEFAULTS.highWaterMark)}</label>
<label>maximum ${num("maximum", canvas?.maximum, CANVAS_BUCKET_DEFAULTS.maximum)}</label>
<label>drain /s ${num("outflowPerSecond", canvas?.outflowPerSecond, CANVAS_BUCKET_DEFAULTS.outflowPerSecond)}</label>
<label>up-front ${num("upFrontCost", canvas?.upFrontCost, CANVAS_BUCKET_DEFAULTS.upFrontCost)}</label>
<label>cost per request ${num("requestCost", canvas?.requestCost, CANVAS_BUCKET_DEFAULTS.requestCost)}</label><br>
<span class="muted">D2L:</span>
<label>credits ${num("credits", d2l?.credits, D2L_BUCKET_DEFAULTS.credits)}</label>
<label>per window (s) ${num("windowSeconds", d2l?.windowSeconds, D2L_BUCKET_DEFAULTS.windowSeconds)}</label>
<label>cost per call ${num("costPerCall", d2l?.costPerCall, D2L_BUCKET_DEFAULTS.costPerCall)}</label>
<button>Save</button></form>
<p class="muted">${s.mode === "none" ? "No throttle." : `Now: level ${e(points(t.level))}, remaining ${e(points(t.remaining))}; refused ${e(t.refused)} since set.`} Throttled answers on this platform: ${e(throttled)}.</p>`;

  const title = `${platform?.name ?? platformId} · ${course.label ?? course.id}`;
  return layout(
    `Gradebook · ${title}`,
    `<header class="top"><span class="lms">${e(platform?.name ?? platformId)}</span><span class="course">${e(`${course.label ?? course.id}${course.title ? ` · ${course.title}` : ""}`)}</span>
<a style="margin-left:auto;color:#cbd5e1" href="${e(base)}/lms">Back to the LMS</a></header>
<main>${notice ? `<p class="notice" role="status">${e(notice)}</p>` : ""}${error ? `<p class="error" role="alert">${e(error)}</p>` : ""}
<section class="box"><h2>Gradebook <span class="muted">(${e(FAMILY_NAMES[family])})</span></h2>${gradebook}</section>
<section class="box"><h2>Columns</h2>${items.length ? `<table><thead><tr><th>Column</th><th>Due</th><th></th></tr></thead><tbody>${columns}</tbody></table>` : `<p class="muted">None yet.</p>`}</section>
<section class="box"><h2>LMS</h2>${familyForm}</section>
<section class="box"><h2>Throttle</h2>${throttleForm}</section></main>`,
  );
}

/** Links to every demo course's gradebook page. */
export function demoGradebookLinks(base: string): string {
  return DEMO_COURSES.map(
    (c) =>
      `<li><a href="${e(pageUrl(base, c.platformId, c.contextId))}">${e(`${c.label} · ${c.title}`)}</a> <span class="muted">${e(DEMO_PLATFORMS[c.platformId].name)}</span></li>`,
  ).join("");
}

export { pageUrl as gradebookUrl };
