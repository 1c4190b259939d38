/**
 * What people see, in a real browser inside the emulator's LMS page (LMS on 127.0.0.1, tool on
 * localhost: another site, third-party cookies blocked — the control check is in
 * launch-in-iframe.test.ts): a learner takes the quiz, the teacher sees the score waiting, presses
 * Sync now inside the iframe and sees it sent, the score reaches the LMS gradebook, the learner
 * sees when; a learner cannot open the teacher's page; the operator signs in and finds the story.
 * Needs `npm run build` and /usr/bin/chromium.
 */
import type { FrameLocator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hydrated, shot } from "./support/browser";
import { demoQuiz } from "./support/quiz";
import { lmsLaunch as startedLmsLaunch, startStack, type Stack } from "./support/stack";

const ADMIN_TOKEN = "e2e-admin-token-that-is-long-enough";
let stack: Stack;
let emu: Stack["emu"];
let app: Stack["app"];
let browser: Stack["browser"];

beforeAll(async () => {
  stack = await startStack("pages", { ADMIN_TOKEN });
  ({ emu, app, browser } = stack);
});
afterAll(() => stack?.close());

const lmsLaunch = (page: Page, query: Record<string, string>): Promise<FrameLocator> => startedLmsLaunch(stack, page, query);

function toolUrl(page: Page, part: string): URL {
  const frame = page.frames().find((f) => f.url().startsWith(app.url) && f.url().includes(part));
  if (!frame) throw new Error(`no tool frame with ${part}`);
  return new URL(frame.url());
}



describe("the quiz, the teacher's page and Sync now, inside the LMS iframe", () => {
  let teacherUrl: URL;
  let learnerUrl: URL;
  let syncPost: { headers: Record<string, string>; body: string; path: string };

  it("a learner takes the quiz and sees the score on its way", async () => {
    const page = await browser.context.newPage();
    const tool = await lmsLaunch(page, { link: "bio101-quiz", user: "u-alan", role: "Learner" });
    await expect.poll(() => tool.locator("h1").textContent()).toBe("Quiz: Evolution");
    await hydrated(tool);
    // Submitting with a question unanswered is refused in words, and nothing is recorded.
    const quiz = demoQuiz("bio101-quiz").questions;
    await tool.locator(`input[name="q1"][value="${quiz[0].answer}"]`).check();
    await tool.getByRole("button", { name: "Submit answers" }).click();
    await expect.poll(() => tool.locator("p[role=alert]").textContent()).toContain("Answer every question");
    // Four right, the last one wrong: 4 / 5.
    for (const [i, q] of quiz.entries()) {
      const v = i < 4 ? q.answer : q.choices.find((c) => c.id !== q.answer)!.id;
      await tool.locator(`input[name="${q.id}"][value="${v}"]`).check();
    }
    await tool.getByRole("button", { name: "Submit answers" }).click();
    await expect.poll(() => tool.locator(".result .score").textContent()).toBe("4 / 5");
    await expect.poll(() => tool.locator("[data-reached]").getAttribute("data-reached")).toBe("no");
    expect(await tool.locator("[data-reached]").textContent()).toContain("On its way");
    learnerUrl = toolUrl(page, "/activity/");
    await shot(page, "learner-quiz-submitted.png");
    await page.close();
  });

  it("the teacher sees it waiting, presses Sync now inside the iframe and sees it sent", async () => {
    const page = await browser.context.newPage();
    const tool = await lmsLaunch(page, { link: "bio101-quiz", user: "u-ada", role: "Instructor" });
    await expect.poll(() => tool.locator("h1").textContent()).toBe("Quiz: Evolution");
    teacherUrl = toolUrl(page, "/contexts/");
    await hydrated(tool);
    const alan = tool.locator('tr[data-user="u-alan"]');
    await expect.poll(() => alan.getAttribute("data-state")).toBe("pending");
    expect(await alan.textContent()).toContain("Alan Turing");
    expect(await tool.locator('[data-count="pending"]').textContent()).toBe("1");
    expect(await tool.locator(".verdict").textContent()).toContain("1 grade is waiting");
    await shot(page, "teacher-pending.png");

    const seen: Promise<{ headers: Record<string, string>; body: string }>[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && r.headers()["next-action"]) seen.push(r.allHeaders().then((headers) => ({ headers, body: r.postData() ?? "" })));
    });
    await tool.getByRole("button", { name: "Sync now" }).click();
    await expect.poll(() => tool.locator("section[aria-labelledby=summary] [role=status]").textContent(), { timeout: 30_000 }).toContain("Sync finished: 1 sent");
    // The action posted from inside the 127.0.0.1 LMS page to the tool's own origin, as a server action.
    const actions = await Promise.all(seen);
    expect(actions).toHaveLength(1);
    expect(actions[0].headers.origin).toBe(app.url);
    syncPost = { ...actions[0], path: teacherUrl.pathname + teacherUrl.search };
    await expect.poll(() => alan.getAttribute("data-state")).toBe("sent");
    expect(await tool.locator('[data-count="sent"]').textContent()).toBe("1");
    expect(await tool.locator('[data-count="pending"]').textContent()).toBe("0");
    expect(await alan.textContent()).toContain("In gradebook");
    expect(await tool.locator("ul.runs").textContent()).toContain("a teacher pressed Sync now");
    await shot(page, "teacher-after-sync.png");

    // The LMS gradebook has it: one post for Alan, 4 of 5, through the serviceKey.
    const item = emu.emulator.lineItems("demo-canvas", "bio101").find((i) => i.resourceLinkId === "bio101-quiz")!;
    const posts = emu.emulator.scores(item.id).filter((p) => p.userId === "u-alan");
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({ scoreGiven: 4, scoreMaximum: 5, gradingProgress: "FullyGraded", activityProgress: "Completed" });

    // A second press finds nothing to send and sends nothing.
    await tool.getByRole("button", { name: "Sync now" }).click();
    // (The debounced push the quiz scheduled may be the one running by then: either way, nothing new is sent.)
    await expect.poll(() => tool.locator("section[aria-labelledby=summary] [role=status]").textContent(), { timeout: 30_000 }).toMatch(/Sync finished: 0 sent|already running: 0 sent|already running; it sends/);
    expect(emu.emulator.scores(item.id).filter((p) => p.userId === "u-alan")).toHaveLength(1);
    await page.close();
  });

  it("the learner sees when the score reached the LMS", async () => {
    const page = await browser.context.newPage();
    await page.goto(learnerUrl.toString().replace("done=1", "done=0"));
    await expect.poll(() => page.locator("[data-reached]").getAttribute("data-reached")).toBe("yes");
    expect(await page.locator("[data-reached]").textContent()).toMatch(/reached your gradebook at \d+ \w+ \d{4}, \d\d:\d\d UTC/);
    await page.close();
  });

  it("a learner cannot open the teacher's page, and nobody can without a session", async () => {
    const learnerToken = learnerUrl.searchParams.get("s")!;
    const asLearner = await fetch(`${app.url}${teacherUrl.pathname}?s=${encodeURIComponent(learnerToken)}`);
    expect(asLearner.status).toBe(403);
    expect(await asLearner.text()).not.toContain("u-alan");
    const anonymous = await fetch(`${app.url}${teacherUrl.pathname}`);
    expect(anonymous.status).toBe(401);
    // The Sync now action replayed: from another site it is refused by Next's Origin check; with a
    // learner's token in the form it is refused by the action's own check. Nothing is sent either way.
    const before = emu.emulator.log.length;
    const replay = (origin: string, body: string) =>
      fetch(`${app.url}${syncPost.path}`, {
        method: "POST",
        headers: { "content-type": syncPost.headers["content-type"], "next-action": syncPost.headers["next-action"], accept: "text/x-component", origin },
        body,
      });
    const crossSite = await replay("http://127.0.0.1:9", syncPost.body);
    expect(await crossSite.text()).not.toContain("Sync finished");
    expect(crossSite.status).not.toBe(200);
    const teacherToken = teacherUrl.searchParams.get("s")!;
    expect(syncPost.body).toContain(teacherToken);
    const asLearnerAction = await replay(app.url, syncPost.body.replaceAll(teacherToken, learnerToken));
    expect(await asLearnerAction.text()).toContain("This action is for the teachers of this course");
    const sameSite = await replay(app.url, syncPost.body);
    expect(await sameSite.text()).toMatch(/Sync finished: 0 sent|already running/);
    expect(emu.emulator.log.filter((e) => e.method === "POST").length).toBe(emu.emulator.log.slice(0, before).filter((e) => e.method === "POST").length);
    // The learner's own page is theirs.
    const own = await fetch(`${app.url}${learnerUrl.pathname}?s=${encodeURIComponent(learnerToken)}`);
    expect(own.status).toBe(200);
    // No page, as HTML or as the RSC payload a client navigation fetches, carries a secret.
    const pages = [`${teacherUrl.pathname}?s=${encodeURIComponent(teacherToken)}`, `${learnerUrl.pathname}?s=${encodeURIComponent(learnerToken)}`];
    for (const p of pages) {
      for (const headers of [{}, { rsc: "1" }] as Record<string, string>[]) {
        const res = await fetch(`${app.url}${p}`, { headers });
        expect(res.status).toBe(200);
        const body = await res.text();
        for (const secret of [stack.secrets.apiKey, ADMIN_TOKEN, stack.secrets.encryptionKey, stack.secrets.sessionSecret]) expect(body).not.toContain(secret);
      }
    }
  });

  it("reads at 320 px without the page scrolling sideways", async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 320, height: 800 });
    await page.goto(teacherUrl.toString());
    await expect.poll(() => page.locator('tr[data-user="u-alan"]').count()).toBe(1);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, "teacher-320px.png");
    // Keyboard: the first button reached by Tab is Sync now.
    let focused = "";
    for (let i = 0; i < 10 && focused !== "Sync now"; i++) {
      await page.keyboard.press("Tab");
      focused = (await page.evaluate(() => document.activeElement?.textContent ?? "")).trim();
    }
    expect(focused).toBe("Sync now");
    // The learner's page too, with their result and the retake form.
    await page.goto(`${learnerUrl.toString().replace("done=1", "done=0")}&retake=1`);
    await expect.poll(() => page.locator("form.quiz").count()).toBe(1);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await shot(page, "learner-320px.png");
    await page.close();
  });
});

describe("the operator's dashboard", () => {
  it("asks for the token, signs in with a strict same-site cookie, and finds a score's story", async () => {
    const res = await fetch(`${app.url}/admin`);
    expect(res.status).toBe(401);
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(await res.text()).not.toContain(ADMIN_TOKEN);

    const page = await browser.context.newPage();
    await page.goto(`${app.url}/admin`);
    await hydrated(page);
    await page.getByLabel("Admin token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("p[role=alert]").textContent()).toContain("That token is not right");
    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Gradesync operations");
    await hydrated(page);

    const cookie = (await browser.context.cookies(`${app.url}/admin`)).find((c) => c.name === "gs_admin")!;
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/admin" });
    expect(cookie.value).not.toContain(ADMIN_TOKEN);

    // The quiz link is in sync; every launched link is listed, and the filter narrows the list.
    expect(await page.locator("table.contexts tbody tr").count()).toBeGreaterThanOrEqual(1);
    await page.getByRole("link", { name: /^OK \(\d+\)$/ }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get("state")).toBe("ok");
    const okRows = await page.locator('table.contexts tbody tr[data-state="ok"]').count();
    expect(okRows).toBeGreaterThanOrEqual(1);
    expect(okRows).toBe(await page.locator("table.contexts tbody tr").count());

    await page.getByLabel("User id or delivery id").fill("u-alan");
    await page.getByRole("button", { name: "Search" }).click();
    const story = page.locator("article.story").first();
    await expect.poll(() => story.textContent()).toContain("Alan Turing");
    expect(await story.textContent()).toContain("activity: 4 / 5 FullyGraded → revision 1");
    expect(await story.textContent()).toContain("revision 1: sent (HTTP 204)");
    expect(await story.locator("[data-outcome]").getAttribute("data-outcome")).toBe("sent");
    await shot(page, "admin-search.png");
    // At 320 px the wide tables scroll inside their cards; the page itself does not.
    await page.setViewportSize({ width: 320, height: 800 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await shot(page, "admin-320px.png");
    await page.setViewportSize({ width: 1280, height: 900 });

    // Backfill: the dry run lists what would be sent and warns before anything runs.
    await page.getByLabel("Platform id").fill("demo-canvas");
    await page.getByLabel(/Resource link id/).fill("bio101-quiz");
    await page.getByRole("button", { name: "Dry run" }).click();
    await expect.poll(() => page.locator("[data-would-send]").getAttribute("data-would-send")).toBe("1");
    expect(await page.getByRole("note").textContent()).toContain("No selected student has a grade set by hand in the LMS");
    const item = emu.emulator.lineItems("demo-canvas", "bio101").find((i) => i.resourceLinkId === "bio101-quiz")!;
    expect(emu.emulator.scores(item.id)).toHaveLength(1);
    await page.getByRole("button", { name: "Run backfill" }).click();
    await expect.poll(() => page.locator("form.backfill [role=alert]").textContent()).toContain("Tick the box");
    expect(emu.emulator.scores(item.id)).toHaveLength(1);
    await page.getByLabel(/I understand/).check();
    await page.getByRole("button", { name: "Run backfill" }).click();
    await expect.poll(() => page.getByRole("status").last().textContent(), { timeout: 30_000 }).toMatch(/Backfill (completed|partial): 1 re-sent/);
    await expect.poll(() => emu.emulator.scores(item.id).length, { timeout: 15_000 }).toBe(2);
    await shot(page, "admin-backfill.png");
    await page.close();
  });
});
