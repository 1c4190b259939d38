/**
 * Quiz retakes in a real browser, inside the emulator's LMS page: a learner scores 5/5, is told
 * before retaking that the best attempt counts, retakes with 1/5, and is told the grade stays 5/5;
 * after a sync the LMS gradebook still holds full marks. The teacher switches the link to "latest" and the
 * learner's page says so. Needs `npm run build` and /usr/bin/chromium.
 */
import type { FrameLocator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hydrated, shot } from "./support/browser";
import { demoQuiz } from "./support/quiz";
import { lmsLaunch, startStack, type Stack } from "./support/stack";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack("retakes");
});
afterAll(() => stack?.close());

const LEARNER = { link: "bio101-quiz", user: "u-katherine", role: "Learner" };
const QUIZ = demoQuiz(LEARNER.link).questions;


/** Answers the quiz with `right` questions right (the first ones) and the rest wrong, and submits. */
async function takeQuiz(tool: FrameLocator, right: number): Promise<void> {
  await hydrated(tool);
  for (const [i, q] of QUIZ.entries()) {
    const choice = i < right ? q.answer : q.choices.find((c) => c.id !== q.answer)!.id;
    await tool.locator(`input[name="${q.id}"][value="${choice}"]`).check();
  }
  await tool.getByRole("button", { name: "Submit answers" }).click();
}

/** What the simulator's gradebook shows for a student in a column (its side panel). */
async function gradebookCell(page: Page, student: string, column: string): Promise<string | null> {
  await page.goto(`${stack.emu.url}/lms/panel?platformId=demo-canvas&contextId=bio101`);
  return page.evaluate(
    ([student, column]) => {
      const table = document.querySelector("table");
      if (!table) return null;
      const col = [...table.querySelectorAll("thead th")].findIndex((th) => th.textContent === column);
      const row = [...table.querySelectorAll("tbody tr")].find((tr) => tr.firstElementChild?.textContent === student);
      return col < 0 || !row ? null : (row.children[col]?.textContent ?? null);
    },
    [student, column],
  );
}

describe("a quiz retake inside the LMS iframe", () => {
  it("keeps the best attempt, says so before the retake, and says what happened after; the LMS keeps full marks", async () => {
    const page = await stack.browser.context.newPage();
    const tool = await lmsLaunch(stack, page, LEARNER);
    await expect.poll(() => tool.locator("h1").textContent()).toBe("Quiz: Evolution");
    await takeQuiz(tool, QUIZ.length);
    await expect.poll(() => tool.locator(".result .score").textContent()).toBe(`${QUIZ.length} / ${QUIZ.length}`);
    // Before any retake: which attempt counts.
    expect(await tool.locator(".retake-rule").textContent()).toContain("Your best attempt counts");
    // The debounced push sends it to the LMS gradebook.
    const item = () => stack.emu.emulator.lineItems("demo-canvas", "bio101").find((i) => i.resourceLinkId === "bio101-quiz")!;
    const posts = () => stack.emu.emulator.scores(item().id).filter((p) => p.userId === "u-katherine");
    await expect.poll(() => posts().length, { timeout: 60_000 }).toBe(1);

    await tool.getByRole("link", { name: "Take the quiz again" }).click();
    await expect.poll(() => tool.locator("h2#quiz").textContent()).toBe("Take the quiz again");
    expect(await tool.locator("section[aria-labelledby=quiz] .retake-rule").textContent()).toContain("Your best attempt counts");
    await shot(page, "retake-before.png");
    await takeQuiz(tool, 1);
    await expect.poll(() => tool.locator(".attempt-kept").textContent()).toBe(`This attempt scored 1 / ${QUIZ.length}; your grade stays ${QUIZ.length} / ${QUIZ.length}.`);
    expect(await tool.locator(".result .score").textContent()).toBe(`${QUIZ.length} / ${QUIZ.length}`);
    await shot(page, "retake-after.png");
    await page.close();

    // The teacher syncs: nothing lower goes out, and the simulator's gradebook still shows 5.
    const teacher = await stack.browser.context.newPage();
    const tTool = await lmsLaunch(stack, teacher, { link: "bio101-quiz", user: "u-ada", role: "Instructor" });
    await expect.poll(() => tTool.locator('tr[data-user="u-katherine"]').count()).toBe(1);
    expect(await tTool.locator('tr[data-user="u-katherine"]').textContent()).toContain(`${QUIZ.length} / ${QUIZ.length}`);
    await hydrated(tTool);
    await tTool.getByRole("button", { name: "Sync now" }).click();
    await expect.poll(() => tTool.locator("section[aria-labelledby=summary] [role=status]").textContent(), { timeout: 30_000 }).toMatch(/Sync finished|already running/);
    expect(posts().map((p) => p.scoreGiven)).toEqual([QUIZ.length]);
    const panel = await stack.browser.context.newPage();
    // The column has its own maximum: full marks there (1/5 would show a fifth of it).
    expect(await gradebookCell(panel, "Katherine Johnson", "Quiz: Evolution")).toBe(String(item().scoreMaximum));
    await panel.close();

    // The teacher makes the latest attempt count; the learner's page says so before the next retake.
    await tTool.getByLabel("Which attempt counts").selectOption("latest");
    await tTool.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => tTool.locator("form.keep-attempt .status-line").textContent()).toContain("latest attempt counts");
    await teacher.close();
    const again = await stack.browser.context.newPage();
    const lTool = await lmsLaunch(stack, again, LEARNER);
    await expect.poll(() => lTool.locator(".retake-rule").textContent()).toContain("Your latest attempt counts");
    await again.close();
  });
});
