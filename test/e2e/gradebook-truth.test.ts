/**
 * Gradebook truth in a real browser, as a teacher meets it: a learner's quiz score reaches the
 * simulator's gradebook; a teacher changes it by hand on the simulator's gradebook page; the weekly
 * check (the reconcile cron) finds it; the teacher's page inside the LMS iframe lists it under
 * "Changed in your gradebook" with both values, and after "Send Gradesync's score" and its
 * confirmation the simulator's gradebook holds Gradesync's value again. The learner is told while the
 * teacher's grade stands. Needs `npm run build` and /usr/bin/chromium.
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hydrated, shot } from "./support/browser";
import { demoQuiz } from "./support/quiz";
import { lmsLaunch, startStack, type Stack } from "./support/stack";

const CRON_SECRET = "e2e-truth-cron-secret-with-enough-characters";
let stack: Stack;

beforeAll(async () => {
  stack = await startStack("truth", { CRON_SECRET });
});
afterAll(() => stack?.close());

const LEARNER = { link: "bio101-quiz", user: "u-katherine", role: "Learner" };
const TEACHER = { link: "bio101-quiz", user: "u-ada", role: "Instructor" };
const QUIZ = demoQuiz(LEARNER.link).questions;


describe("a grade a teacher changed by hand in the LMS", () => {
  it("is kept and shown; Send Gradesync's score, confirmed, puts Gradesync's value back in the LMS gradebook", async () => {
    const item = () => stack.emu.emulator.lineItems("demo-canvas", "bio101").find((i) => i.resourceLinkId === "bio101-quiz")!;
    const cell = () => stack.emu.emulator.gradebook(item().id).find((c) => c.userId === "u-katherine");

    // The learner scores full marks; the push after new scores sends it.
    const page = await stack.browser.context.newPage();
    const tool = await lmsLaunch(stack, page, LEARNER);
    await hydrated(tool);
    for (const q of QUIZ) await tool.locator(`input[name="${q.id}"][value="${q.answer}"]`).check();
    await tool.getByRole("button", { name: "Submit answers" }).click();
    await expect.poll(() => cell()?.setBy ?? null, { timeout: 60_000 }).toBe("tool");
    const full = item().scoreMaximum;

    // A teacher changes it by hand on the simulator's gradebook page.
    const lms = await stack.browser.context.newPage();
    await lms.goto(`${stack.emu.url}/lms/gradebook?platformId=demo-canvas&contextId=bio101`);
    const input = lms.getByLabel(`Grade for u-katherine in ${item().label}`);
    await input.fill("2");
    await input.locator("xpath=..").getByRole("button", { name: "Set" }).click();
    await expect.poll(() => lms.getByRole("status").textContent()).toContain("by hand");
    expect(cell()).toMatchObject({ resultScore: 2, setBy: "person" });

    // The weekly check reads it back.
    const answer = await fetch(`${stack.app.url}/api/cron/reconcile`, { headers: { authorization: `Bearer ${CRON_SECRET}` } });
    expect(answer.status).toBe(200);
    expect((await answer.json()).counts).toMatchObject({ differs: 1 });

    // The learner is told their teacher changed it.
    await page.reload();
    await expect.poll(() => page.frameLocator("iframe.tool").locator("[data-teacher-set]").textContent()).toContain("Your teacher changed this grade in the LMS");
    await page.close();

    // On a 390 px phone the list is one block per student: both values on screen, nothing scrolls
    // sideways. (Checked before the teacher's own page opens: a page opened and closed beside it
    // left Chromium ignoring the next click on its <summary>.)
    const launched = await stack.browser.context.newPage();
    await (await lmsLaunch(stack, launched, TEACHER)).locator('table.changes tr[data-user="u-katherine"]').waitFor();
    const teacherUrl = launched.frames().find((f) => f.url().includes("/contexts/"))!.url();
    await launched.close();
    const phone = await stack.browser.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(teacherUrl);
    const phoneRow = phone.locator('table.changes tr[data-user="u-katherine"]');
    for (const label of ["In your gradebook", "Gradesync's score"]) {
      const box = (await phoneRow.locator(`td[data-label="${label}"]`).boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }
    expect(await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await shot(phone, "truth-changes-390px.png");
    await phone.close();

    // The teacher sees both values, opens the confirmation, and sends Gradesync's score.
    const teacher = await stack.browser.context.newPage();
    await teacher.setViewportSize({ width: 1100, height: 900 });
    const tTool = await lmsLaunch(stack, teacher, TEACHER);
    const row = tTool.locator('table.changes tr[data-user="u-katherine"]');
    await expect.poll(() => row.count()).toBe(1);
    expect(await tTool.locator("[data-reconcile]").textContent()).toMatch(/^Checked today: 0 of 1 match; 1 changed by hand\./);
    expect(await row.textContent()).toContain(`2 / ${full}`);
    expect(await row.textContent()).toContain(`${QUIZ.length} / ${QUIZ.length}`);
    await hydrated(tTool);
    await row.getByText("Send Gradesync's score").click();
    const confirm = row.locator("details.confirm-send form p");
    expect(await confirm.textContent()).toMatch(new RegExp(`replaces .*'s 2 / ${full} in your gradebook with ${full} / ${full} \\(${QUIZ.length} / ${QUIZ.length}\\)\\.`));
    await shot(teacher, "truth-confirm.png");
    await row.getByRole("button", { name: "Yes, replace it" }).click();
    await expect
      .poll(() => tTool.locator("section[aria-labelledby=changes] .status-line").textContent(), { timeout: 30_000 })
      .toMatch(/Gradesync's score (replaced|will replace) the gradebook's for 1 student\./);
    await expect.poll(() => cell()?.setBy, { timeout: 30_000 }).toBe("tool");
    expect(cell()!.resultScore).toBe(full);
    await expect.poll(() => tTool.locator("table.changes").count()).toBe(0);
    await shot(teacher, "truth-after.png");
    await teacher.close();

    // The simulator's gradebook page shows Gradesync's value, no longer marked by hand.
    await lms.reload();
    const value = await lms.getByLabel(`Grade for u-katherine in ${item().label}`).locator("xpath=../..").textContent();
    expect(value).toContain(String(full));
    expect(value).not.toContain("by hand");
    await lms.close();
  });
});
