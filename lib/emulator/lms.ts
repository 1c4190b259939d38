/**
 * The LMS simulator: plain HTML forms, no client code. <base>/lms picks a course activity, a person, a
 * role and whether the launch names a line item; <base>/lms/launch (POST, or GET with the same query)
 * makes the launch and shows the tool in an iframe as a course page does; <base>/lms/panel is the
 * self-refreshing side panel with the course's gradebook and the last LTIAAS calls.
 * Field names (the e2e test drives them): link, user, role (a ROLE_CHOICES key, empty = as enrolled),
 * lineItem ("with" | "without").
 */
import { escapeHtml as e } from "../html";
import { DEMO_COURSES, DEMO_PEOPLE, DEMO_PLATFORMS, ROLE_CHOICES, demoUser, ensureDemoCourse, type DemoCourse, type RoleChoice } from "./demo";
import { htmlPage } from "./http";
import { demoGradebookLinks, gradebookPage, gradebookUrl, isGradebookPath } from "./lms-gradebook";
import { layout } from "./lms-layout";
import { isGradableEnrollment } from "./roles";
import { isLate } from "./gradebook";
import type { LmsState, StoredLineItem } from "./state";
import type { Emulator } from "./types";

export interface LmsContext {
  emulator: Emulator;
  state: LmsState;
  /** Origin and base path of the emulator. */
  base: string;
  toolUrl?: string;
}

interface LaunchChoice {
  course: DemoCourse;
  link: DemoCourse["links"][number];
  person: (typeof DEMO_PEOPLE)[number];
  role: RoleChoice;
  withLineItem: boolean;
}

/** The tool's origin: as configured, else this page's origin on localhost (another site than 127.0.0.1). */
function toolOrigin(base: string, configured?: string): string {
  if (configured) return configured.replace(/\/+$/, "");
  const u = new URL(new URL(base).origin);
  if (u.hostname === "127.0.0.1") u.hostname = "localhost";
  return u.origin;
}

export async function lmsPages(req: Request, url: URL, path: string, ctx: LmsContext): Promise<Response> {
  if (path === "/lms" || path === "/lms/") {
    if (req.method !== "GET") return htmlPage(layout("Method not allowed", "<p>Use GET.</p>"), 405);
    return htmlPage(chooserPage(ctx.base));
  }
  if (path === "/lms/panel") return htmlPage(panelPage(url, ctx));
  if (isGradebookPath(path)) return gradebookPage(req, url, ctx);
  if (path === "/lms/launch") {
    let params: URLSearchParams;
    if (req.method === "GET") params = url.searchParams;
    else if (req.method === "POST") params = new URLSearchParams(await req.text());
    else return htmlPage(layout("Method not allowed", "<p>Use POST or GET.</p>"), 405);
    const choice = readChoice(params);
    if (typeof choice === "string") return htmlPage(chooserPage(ctx.base, choice), 400);
    return htmlPage(coursePage(launch(choice, ctx), choice, ctx));
  }
  return htmlPage(layout("Not found", `<p>No simulator page here. <a href="${e(ctx.base)}/lms">Back to the LMS</a>.</p>`), 404);
}

function readChoice(params: URLSearchParams): LaunchChoice | string {
  const linkId = params.get("link");
  const courseId = params.get("course");
  const course = linkId
    ? DEMO_COURSES.find((c) => c.links.some((l) => l.id === linkId))
    : DEMO_COURSES.find((c) => c.contextId === courseId);
  if (!course) return `Unknown activity: ${linkId ?? courseId ?? "(none)"}`;
  const link = course.links.find((l) => l.id === linkId) ?? course.links[0];
  const person = DEMO_PEOPLE.find((p) => p.id === (params.get("user") ?? DEMO_PEOPLE[0].id));
  if (!person) return `Unknown person: ${params.get("user")}`;
  const roleParam = params.get("role") || person.enrolment;
  if (!Object.hasOwn(ROLE_CHOICES, roleParam)) return `Unknown role: ${roleParam}`;
  return { course, link, person, role: roleParam as RoleChoice, withLineItem: params.get("lineItem") !== "without" };
}

function launch(choice: LaunchChoice, ctx: LmsContext): string {
  const { course, link, person, role, withLineItem } = choice;
  ensureDemoCourse(ctx.state, course, ctx.base);
  let lineItemId: string | undefined;
  if (withLineItem) {
    // One gradebook column per activity, made the first time a launch asks for one.
    lineItemId =
      ctx.state.lineItems(course.platformId, course.contextId).find((i) => i.resourceLinkId === link.id)?.id ??
      ctx.emulator.addLineItem(course.platformId, course.contextId, { label: link.title, scoreMaximum: 100, resourceLinkId: link.id });
  }
  const { ltik } = ctx.emulator.createLaunch({
    platformId: course.platformId,
    contextId: course.contextId,
    contextLabel: course.label,
    contextTitle: course.title,
    resourceLinkId: link.id,
    resourceLinkTitle: link.title,
    user: demoUser(person),
    roles: [...ROLE_CHOICES[role]],
    lineItemId,
  });
  return `${toolOrigin(ctx.base, ctx.toolUrl)}/launch?ltik=${encodeURIComponent(ltik)}`;
}

function launchForm(base: string, selected?: LaunchChoice): string {
  const sel = (on: boolean) => (on ? " selected" : "");
  const links = DEMO_COURSES.map(
    (c) =>
      `<optgroup label="${e(`${c.label} · ${c.title} (${DEMO_PLATFORMS[c.platformId].name})`)}">${c.links
        .map((l) => `<option value="${e(l.id)}"${sel(selected?.link.id === l.id)}>${e(l.title)}</option>`)
        .join("")}</optgroup>`,
  ).join("");
  const people = DEMO_PEOPLE.map(
    (p) => `<option value="${e(p.id)}"${sel(selected?.person.id === p.id)}>${e(`${p.name} (${p.enrolment})`)}</option>`,
  ).join("");
  const roles = [`<option value="">As enrolled</option>`]
    .concat(Object.keys(ROLE_CHOICES).map((r) => `<option value="${e(r)}"${sel(selected?.role === r)}>${e(r)}</option>`))
    .join("");
  const withItem = selected?.withLineItem ?? true;
  return `<form class="launch" method="post" action="${e(base)}/lms/launch">
<label for="link">Course activity</label><select id="link" name="link">${links}</select>
<label for="user">Person</label><select id="user" name="user">${people}</select>
<label for="role">Launch role</label><select id="role" name="role">${roles}</select>
<fieldset><legend>Assignment and Grades</legend>
<label><input type="radio" name="lineItem" value="with"${withItem ? " checked" : ""}> With a lineItemId (one gradebook column per activity)</label>
<label><input type="radio" name="lineItem" value="without"${withItem ? "" : " checked"}> Without (the tool finds or creates its column)</label></fieldset>
<button type="submit">Launch</button></form>`;
}

function chooserPage(base: string, error?: string): string {
  return layout(
    "Emulated LMS",
    `<header class="top"><span class="lms">Emulated LMS</span><span class="course">LTIAAS + LMS simulator</span></header>
<main>${error ? `<p class="error" role="alert">${e(error)}</p>` : ""}
<h1>Launch the tool from a course</h1>
<p class="muted">Pick an activity, a person and a role. The tool opens inside this page as it would in Canvas or Moodle.</p>
${launchForm(base)}
<h2 style="font-size:1rem;margin:1.2rem 0 .4rem">Gradebooks and LMS settings</h2>
<p class="muted">Edit grades by hand, set due dates, switch how each platform behaves (Canvas, Moodle, D2L) and its throttle.</p>
<ul>${demoGradebookLinks(base)}</ul></main>`,
  );
}

function coursePage(toolSrc: string, choice: LaunchChoice, ctx: LmsContext): string {
  const { course, link, person, role, withLineItem } = choice;
  const again = (linkId: string) => {
    const q = new URLSearchParams({ link: linkId, user: person.id, role, lineItem: withLineItem ? "with" : "without" });
    return `${ctx.base}/lms/launch?${q}`;
  };
  const nav = course.links
    .map((l) => `<li><a href="${e(again(l.id))}"${l.id === link.id ? ' class="current"' : ""}>${e(l.title)}</a></li>`)
    .join("");
  const panel = `${ctx.base}/lms/panel?${new URLSearchParams({ platformId: course.platformId, contextId: course.contextId })}`;
  return layout(
    `${link.title} · ${course.label}`,
    `<header class="top"><span class="lms">${e(DEMO_PLATFORMS[course.platformId].name)}</span>
<span class="course">${e(`${course.label} · ${course.title}`)}</span><span class="muted" style="margin-left:auto;color:#cbd5e1">${e(`${person.name} as ${role}`)}</span></header>
<div class="layout"><nav class="side"><h2>Activities</h2><ul>${nav}</ul>
<h2>Gradebook</h2><ul><li><a href="${e(gradebookUrl(ctx.base, course.platformId, course.contextId))}" target="_blank" rel="noopener">Edit grades and LMS settings</a></li></ul>
<h2>Launch again</h2>${launchForm(ctx.base, choice)}</nav>
<main><h1>${e(link.title)}</h1>
<iframe class="tool" name="tool" title="${e(link.title)}" src="${e(toolSrc)}" allow="clipboard-write"></iframe></main>
<aside><iframe title="Gradebook and LTIAAS request log" src="${e(panel)}"></iframe></aside></div>`,
  );
}

/** Line item ids and paging URLs are encoded into the path; show them as a person reads them. */
function readable(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function panelPage(url: URL, ctx: LmsContext): string {
  const platformId = url.searchParams.get("platformId") ?? "";
  const contextId = url.searchParams.get("contextId") ?? "";
  const items = ctx.state.lineItems(platformId, contextId);
  const learners = ctx.state.members(platformId, contextId).filter((m) => isGradableEnrollment(m.roles));
  const family = ctx.state.lmsFamily(platformId);
  const cell = (item: StoredLineItem, userId: string) => {
    const itemId = item.id;
    const c = ctx.state.cells.get(itemId)?.get(userId);
    if (!c) return `<td class="muted">–</td>`;
    const tags: string[] = [];
    if (c.setBy === "person") tags.push(`<span class="tag hand">by hand</span>`);
    if (isLate(item, c, family)) tags.push(`<span class="tag late">late</span>`);
    if (c.clipped) tags.push(`<span class="tag">clipped</span>`);
    if (family === "canvas" && c.attempts > 1) tags.push(`<span class="tag">${c.attempts} attempts</span>`);
    const title = `${c.setBy === "person" ? "set by hand" : "set by the tool"} ${new Date(c.setAt).toISOString()}${
      c.submittedAt ? ` · submitted ${c.submittedAt}` : ""
    }`;
    if (c.points === undefined) {
      const last = ctx.state.posts.get(itemId)?.findLast((p) => p.userId === userId);
      const shown = c.cleared ? "cleared" : (last?.gradingProgress ?? "–");
      return `<td class="muted" title="${e(title)}">${e(shown)}${tags.join("")}</td>`;
    }
    return `<td title="${e(title)}">${e(Math.round(c.points * 100) / 100)}${tags.join("")}</td>`;
  };
  const gradebook = items.length
    ? `<table><thead><tr><th>Student</th>${items.map((i) => `<th>${e(i.label)}</th>`).join("")}</tr></thead><tbody>${learners
        .map((m) => `<tr><td>${e(m.name ?? m.userId)}</td>${items.map((i) => cell(i, m.userId)).join("")}</tr>`)
        .join("")}</tbody></table>`
    : `<p class="muted">No gradebook columns yet.</p>`;
  const calls = ctx.emulator.log
    .slice(-25)
    .reverse()
    .map(
      (r) =>
        `<tr><td>${e(r.at.slice(11, 19))}</td><td>${e(r.method)}</td><td class="path">${e(readable(r.path))}</td><td>${e(r.status)}</td><td>${e(r.ms)}</td></tr>`,
    )
    .join("");
  const edit = platformId && contextId ? ` <a href="${e(gradebookUrl(ctx.base, platformId, contextId))}" target="_blank" rel="noopener" style="font-size:12px;font-weight:400">edit</a>` : "";
  return layout(
    "Gradebook and LTIAAS requests",
    `<div style="padding:.6rem"><h2 style="font-size:1rem;margin:.2rem 0 .4rem">Gradebook${edit}</h2>${gradebook}
<h2 style="font-size:1rem;margin:1rem 0 .4rem">Last LTIAAS calls</h2>
<table><thead><tr><th>Time</th><th>Method</th><th>Path</th><th>Status</th><th>ms</th></tr></thead><tbody>${calls || `<tr><td colspan="5" class="muted">None yet.</td></tr>`}</tbody></table></div>`,
    `<meta http-equiv="refresh" content="3">`,
  );
}
