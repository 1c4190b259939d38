/**
 * The operator's page in a real browser: a backfill naming a platform Gradesync has never seen says
 * so (not "0 would be sent"); a learner's score reaches the LMS, a teacher changes it by hand there,
 * Reconcile now finds it and the "set by hand or drift" filter lists that link; a platform paused
 * from the Platforms table shows as paused without a reload; a course row opens the link's detail
 * view with the LMS's answers and the runs. At 390 px no page scrolls sideways.
 * Needs `npm run build` and /usr/bin/chromium.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hydrated, shot } from "./support/browser";
import { lmsLaunch, startStack, type Stack } from "./support/stack";
import { demoQuiz } from "./support/quiz";

const ADMIN_TOKEN = "e2e-admin-token-for-the-operator-page";
let stack: Stack;

beforeAll(async () => {
  stack = await startStack("admin", { ADMIN_TOKEN });
});
afterAll(() => stack?.close());

const LEARNER = { link: "bio101-quiz", user: "u-katherine", role: "Learner" };
const QUIZ = demoQuiz(LEARNER.link).questions;

async function signIn(page: Page): Promise<void> {
  await page.goto(`${stack.app.url}/admin`);
  await hydrated(page);
  await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect.poll(() => page.locator("h1").textContent()).toBe("Gradesync operations");
  await hydrated(page);
}

/** The page has not been loaded again since `mark` (an action's answer came without a reload). */
const marked = (page: Page) => page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload === true);
const mark = (page: Page) => page.evaluate(() => void ((window as unknown as { __noReload?: boolean }).__noReload = true));

const noSideScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

describe("the operator's page", () => {
  it("answers a backfill for an unknown platform in words, finds a hand-changed grade, pauses a platform in place, and opens a link's detail", async () => {
    const item = () => stack.emu.emulator.lineItems("demo-canvas", "bio101").find((i) => i.resourceLinkId === "bio101-quiz")!;
    const cell = () => stack.emu.emulator.gradebook(item().id).find((c) => c.userId === "u-katherine");

    // A learner's full marks reach the LMS's gradebook (the push after new scores).
    const lms = await stack.browser.context.newPage();
    const tool = await lmsLaunch(stack, lms, LEARNER);
    await hydrated(tool);
    for (const q of QUIZ) await tool.locator(`input[name="${q.id}"][value="${q.answer}"]`).check();
    await tool.getByRole("button", { name: "Submit answers" }).click();
    await expect.poll(() => cell()?.setBy ?? null, { timeout: 60_000 }).toBe("tool");
    await lms.close();

    const page = await stack.browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await signIn(page);
    await mark(page);

    // A backfill naming a platform that never launched Gradesync says so; nothing is counted.
    await page.getByLabel("Platform id").fill("no-such-lms");
    await page.getByRole("button", { name: "Dry run" }).click();
    await expect.poll(() => page.locator("form.backfill [role=alert]").textContent()).toContain("No platform with the id “no-such-lms” has launched Gradesync");
    expect(await page.locator("[data-would-send]").count()).toBe(0);

    // A teacher changes the grade by hand in the LMS; Reconcile now finds it and says so in place.
    stack.emu.emulator.setHandGrade(item().id, "u-katherine", 2);
    expect(await page.locator('a[data-filter="changed"]').textContent()).toBe("Set by hand or drift (0)");
    await page.getByRole("button", { name: "Reconcile now" }).click();
    await expect.poll(() => page.locator("[data-reconcile-result]").textContent(), { timeout: 30_000 }).toContain("1 changed by hand");
    expect(await marked(page)).toBe(true);
    // The same answer re-rendered the tables: the filter's count and the run are there without a reload.
    await expect.poll(() => page.locator('a[data-filter="changed"]').textContent()).toBe("Set by hand or drift (1)");
    expect(await page.locator('table.runs-table tr[data-kind="reconcile"]').count()).toBeGreaterThanOrEqual(1);

    // The filter lists the link whose grade was set by hand, and only links with changes.
    await page.locator('a[data-filter="changed"]').click();
    await expect.poll(() => new URL(page.url()).searchParams.get("changed")).toBe("1");
    const rows = page.locator("table.contexts tbody tr");
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute("data-overridden")).toBe("1");
    expect(await rows.first().textContent()).toContain("bio101-quiz");
    expect(await rows.first().textContent()).toContain("1 set by hand");
    await shot(page, "admin-changed-filter.png");

    // Pause the platform from its row: the row reads paused without a reload, and so does the course.
    await hydrated(page);
    await mark(page);
    const platform = page.locator('table.platforms tr[data-platform="demo-canvas"]');
    expect(await platform.getAttribute("data-paused")).toBe("false");
    await platform.getByRole("button", { name: "Pause" }).click();
    await expect.poll(() => platform.getAttribute("data-paused")).toBe("true");
    expect(await platform.getByRole("status").textContent()).toContain("Paused demo-canvas");
    expect(await platform.getByRole("button", { name: "Resume" }).count()).toBe(1);
    expect(await rows.first().textContent()).toContain("Paused");
    expect(await marked(page)).toBe(true);
    await shot(page, "admin-platform-paused.png");

    // At 390 px the page does not scroll sideways (wide tables scroll inside their own box).
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await noSideScroll(page)).toBeLessThanOrEqual(0);
    await shot(page, "admin-390px.png");
    await page.setViewportSize({ width: 1280, height: 900 });

    // The course row opens the link's detail: the teacher's view of it, the LMS's answers, the runs.
    await rows.first().getByRole("link", { name: /Quiz|bio101-quiz/ }).click();
    await expect.poll(() => new URL(page.url()).pathname).toMatch(/^\/admin\/links\/[0-9a-f-]{36}$/);
    await expect.poll(() => page.locator("h1").textContent()).not.toBe("Gradesync operations");
    const changes = page.locator('table.changes tr[data-user="u-katherine"]');
    await expect.poll(() => changes.count()).toBe(1);
    expect(await changes.textContent()).toContain(`2 / ${item().scoreMaximum}`);
    expect(await page.locator("[data-paused]").getAttribute("data-paused")).toBe("true");
    expect(await page.locator('table.attempts tr[data-outcome="sent"]').first().textContent()).toContain("sent (HTTP 204)");
    const runs = page.locator("section[aria-labelledby=runs-h]");
    expect(await runs.textContent()).toContain("push-grades");
    expect(await page.locator("[data-drift]").textContent()).toContain("changed by hand");
    await shot(page, "admin-link-detail.png");
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await noSideScroll(page)).toBeLessThanOrEqual(0);
    await page.close();
  });
});
