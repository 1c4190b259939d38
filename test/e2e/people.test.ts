/**
 * What people meet (issue 12 items 4, 5 and 10), in a real browser inside the emulator's LMS page:
 * after a sync with one score sent and one refused (the course's Test Student), the teacher's page
 * has no HTTP code anywhere and tells nobody to check the test student's enrolment; on a 390 px
 * phone the teacher's, the learner's and the operator's pages do not scroll sideways, each student's
 * "What happened" is on screen and the state pills hold on one line; the pages that only say
 * something went wrong are one width; two demo courses ask different questions.
 * Needs `npm run build` and /usr/bin/chromium.
 */
import type { FrameLocator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hydrated, shot } from "./support/browser";
import { demoQuiz } from "./support/quiz";
import { lmsLaunch, startStack, type Stack } from "./support/stack";

const ADMIN_TOKEN = "e2e-people-admin-token-long-enough";
let stack: Stack;

beforeAll(async () => {
  stack = await startStack("people", { ADMIN_TOKEN });
});
afterAll(() => stack?.close());

const LINK = "bio101-quiz";

/** Answers the link's quiz (all right) and submits. */
async function takeQuiz(tool: FrameLocator, link: string): Promise<void> {
  await hydrated(tool);
  for (const q of demoQuiz(link).questions) await tool.locator(`input[name="${q.id}"][value="${q.answer}"]`).check();
  await tool.getByRole("button", { name: "Submit answers" }).click();
  await expect.poll(() => tool.locator(".result .score").count(), { timeout: 30_000 }).toBe(1);
}

/** The tool's own address inside the LMS page (to open it full-page, as on a phone). */
function toolUrl(page: Page, part: string): string {
  const frame = page.frames().find((f) => f.url().includes(part));
  if (!frame) throw new Error(`no tool frame with ${part}`);
  return frame.url();
}

const sidewaysScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

let teacherUrl = "";
let learnerUrl = "";

describe("the teacher's page in teachers' words", () => {
  it("after a run with a score sent and one refused, shows no HTTP code and does not tell the test student's row to check enrolment", async () => {
    const learner = await stack.browser.context.newPage();
    await takeQuiz(await lmsLaunch(stack, learner, { link: LINK, user: "u-alan", role: "Learner" }), LINK);
    learnerUrl = toolUrl(learner, "/activity/");
    await learner.close();
    const test = await stack.browser.context.newPage();
    await takeQuiz(await lmsLaunch(stack, test, { link: LINK, user: "u-test", role: "Test Student" }), LINK);
    await test.close();

    const page = await stack.browser.context.newPage();
    const tool = await lmsLaunch(stack, page, { link: LINK, user: "u-ada", role: "Instructor" });
    await expect.poll(() => tool.locator('tr[data-user="u-test"]').count()).toBe(1);
    teacherUrl = toolUrl(page, "/contexts/");
    await hydrated(tool);
    await tool.getByRole("button", { name: "Sync now" }).click();
    await expect.poll(() => tool.locator("section[aria-labelledby=summary] [role=status]").textContent(), { timeout: 30_000 }).toMatch(/Sync finished|already running/);
    // Whichever push sent them (this click's or the one the quiz scheduled), the page shows both settled.
    await expect
      .poll(
        async () => {
          await page.reload();
          const rows = page.frameLocator("iframe.tool");
          await rows.locator('tr[data-user="u-test"]').waitFor();
          return [await rows.locator('tr[data-user="u-alan"]').getAttribute("data-state"), await rows.locator('tr[data-user="u-test"]').getAttribute("data-state")];
        },
        { timeout: 60_000, interval: 1_000 },
      )
      .toEqual(["sent", "skipped"]);
    const shown = page.frameLocator("iframe.tool");
    await expect.poll(() => shown.locator("ul.runs li").count()).toBeGreaterThan(0);
    // Every text on the page, hidden table headers and chart titles included.
    const text = await shown.locator("body").evaluate((b) => `${b.textContent} ${[...b.querySelectorAll("[aria-label],title")].map((e) => e.getAttribute("aria-label") ?? e.textContent).join(" ")}`);
    expect(text).not.toMatch(/HTTP/i);
    expect(text).not.toMatch(/\b(204|422|503)\b/);
    expect(text).toContain("Last attempt");
    const testRow = await shown.locator('tr[data-user="u-test"]').textContent();
    expect(testRow).toContain("test student");
    expect(testRow).not.toMatch(/enrol/i);
    expect(await shown.locator('tr[data-user="u-alan"] td[data-label="Last attempt"]').textContent()).toContain("sent");
    // Words that look like a link are one: every underlined or link-coloured text is an <a> or a control.
    const fakeLinks = await shown.locator("body").evaluate((b) => {
      const accent = getComputedStyle(b.querySelector("a") ?? b).color;
      return [...b.querySelectorAll(".todo, td, p, li, dd")]
        .filter((el) => !el.closest("a, button, summary, label") && el.childNodes.length > 0)
        .filter((el) => getComputedStyle(el).textDecorationLine.includes("underline") || (b.querySelector("a") && getComputedStyle(el).color === accent))
        .map((el) => el.textContent);
    });
    expect(fakeLinks).toEqual([]);
    await shot(page, "people-teacher-words.png");
    await page.goto(teacherUrl);
    await shot(page, "people-teacher-desktop.png");
    await page.close();
  });
});

describe("on a 390 px phone", () => {
  it("the teacher's page does not scroll sideways; each student's What happened is on screen; pills hold on one line", async () => {
    const page = await stack.browser.context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(teacherUrl);
    await page.locator('tr[data-user="u-test"]').waitFor();
    expect(await sidewaysScroll(page)).toBeLessThanOrEqual(0);
    const what = page.locator('tr[data-user="u-test"] td[data-label="What happened"]');
    expect(await what.isVisible()).toBe(true);
    const box = (await what.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(await what.textContent()).toContain("test student");
    // Each pill is one line box: no pill wraps.
    const lines = await page.locator(".badge").evaluateAll((pills) => pills.map((p) => p.getClientRects().length));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((n) => n === 1)).toBe(true);
    const heights = await page.locator(".badge").evaluateAll((pills) => pills.map((p) => Math.round(p.getBoundingClientRect().height)));
    expect(Math.max(...heights)).toBeLessThan(2 * Math.min(...heights));
    await shot(page, "people-teacher-390px.png");
    await page.close();
  });

  it("the learner's page does not scroll sideways, with the result and the quiz", async () => {
    const page = await stack.browser.context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${learnerUrl.replace("done=1", "done=0")}&retake=1`);
    await page.locator("form.quiz").waitFor();
    expect(await sidewaysScroll(page)).toBeLessThanOrEqual(0);
    await shot(page, "people-learner-390px.png");
    await page.close();
  });

  it("the operator's page does not scroll sideways", async () => {
    const page = await stack.browser.context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${stack.app.url}/admin`);
    await hydrated(page);
    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Gradesync operations");
    expect(await sidewaysScroll(page)).toBeLessThanOrEqual(0);
    await shot(page, "people-admin-390px.png");
    await page.close();
  });
});

describe("pages that only say something went wrong", () => {
  it("are one width: not found, no session, and a launch that failed", async () => {
    const page = await stack.browser.context.newPage();
    const widthOf = async (url: string) => {
      await page.goto(url);
      // The visible box: the card inside the app's pages, the page's own main on the launch's.
      return page.locator("main").evaluate((m) => Math.round((m.querySelector(".card") ?? m).getBoundingClientRect().width));
    };
    const notFound = await widthOf(`${stack.app.url}/nowhere-at-all`);
    const noSession = await widthOf(new URL(teacherUrl).origin + new URL(teacherUrl).pathname);
    const launch = await widthOf(`${stack.app.url}/launch`);
    expect(await page.locator("h1").textContent()).toBeTruthy();
    expect([noSession, launch]).toEqual([notFound, notFound]);
    await page.close();
  });
});

describe("demo content", () => {
  it("two demo courses ask different questions, each its own", async () => {
    const prompts: string[][] = [];
    for (const [link, user] of [["bio101-quiz", "u-katherine"], ["hist110-quiz", "u-katherine"]]) {
      const page = await stack.browser.context.newPage();
      const tool = await lmsLaunch(stack, page, { link, user, role: "Learner" });
      await tool.locator("form.quiz legend").first().waitFor();
      const shown = await tool.locator("form.quiz legend").allTextContents();
      expect(shown).toEqual(demoQuiz(link).questions.map((q) => q.prompt));
      prompts.push(shown);
      await shot(page, `people-quiz-${link}.png`);
      await page.close();
    }
    expect(prompts[0].filter((p) => prompts[1].includes(p))).toEqual([]);
  });
});
