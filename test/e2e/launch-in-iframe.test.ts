/**
 * The tool as an LMS shows it: the emulator's LMS page on 127.0.0.1 frames the tool on localhost
 * (another site) in Debian's Chromium with third-party cookies blocked, and a control check proves
 * they are blocked. Needs `npm run build` and /usr/bin/chromium.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS } from "./support/browser";
import { lmsLaunch as startedLmsLaunch, startStack, type Stack } from "./support/stack";

let stack: Stack;
let emu: Stack["emu"];
let app: Stack["app"];
let browser: Stack["browser"];

beforeAll(async () => {
  stack = await startStack("launch");
  ({ emu, app, browser } = stack);
});
afterAll(() => stack?.close());

async function listen(handler: http.RequestListener): Promise<{ port: number; close(): void }> {
  const server = http.createServer(handler).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

const lmsLaunch = (page: Page, query: Record<string, string>) => startedLmsLaunch(stack, page, query);

describe("third-party cookies (control check)", () => {
  it("are blocked in this browser, while partitioned cookies are kept", async () => {
    const site = await listen((req, res) => {
      if (req.url === "/set") {
        res.setHeader("set-cookie", ["plain=1; Path=/; SameSite=None; Secure", "part=1; Path=/; SameSite=None; Secure; Partitioned"]);
        return res.end("<a id=next href='/echo'>next</a>");
      }
      res.end(`<pre id=cookies>${req.headers.cookie ?? "(none)"}</pre>`);
    });
    const top = await listen((_req, res) => res.end(`<iframe id=f src="http://localhost:${site.port}/set"></iframe>`));
    const page = await browser.context.newPage();
    try {
      await page.goto(`http://127.0.0.1:${top.port}/`);
      const frame = page.frameLocator("#f");
      await frame.locator("#next").click();
      // Inside the 127.0.0.1 page, localhost is a third party: only the partitioned cookie comes back.
      await expect.poll(() => frame.locator("#cookies").textContent()).toBe("part=1");
      // The same cookie as a first party is kept: the block is about third parties, not cookies.
      await page.goto(`http://localhost:${site.port}/set`);
      await page.goto(`http://localhost:${site.port}/echo`);
      expect(await page.locator("#cookies").textContent()).toContain("plain=1");
    } finally {
      await page.close();
      site.close();
      top.close();
    }
  });
});

describe("a launch inside the LMS iframe", () => {
  it("shows the teacher's page, and the partitioned cookie alone keeps the session", async () => {
    const page = await browser.context.newPage();
    const tool = await lmsLaunch(page, { link: "bio101-lab1", user: "u-ada", role: "Instructor" });
    await expect.poll(() => tool.locator("h1").textContent()).toBe("Lab 1: Cells");
    await expect.poll(() => tool.locator(".badge").first().textContent()).toBe("Connected");
    await page.screenshot({ path: path.join(ARTIFACTS, "teacher-in-lms.png"), fullPage: true });

    const frame = page.frames().find((f) => f.url().startsWith(`${app.url}/contexts/`))!;
    const pageUrl = new URL(frame.url());
    expect(pageUrl.searchParams.get("s")).toBeTruthy();
    // Reload the tool's page without the token: only the partitioned cookie can carry the session.
    await page.evaluate((src) => {
      document.querySelector<HTMLIFrameElement>("iframe.tool")!.src = src;
    }, `${app.url}${pageUrl.pathname}`);
    await expect.poll(() => tool.locator("h1").textContent()).toBe("Lab 1: Cells");
    await page.close();
  });

  it("sends a learner to the activity and keeps them off the teacher's page", async () => {
    const teacher = await browser.context.newPage();
    const t = await lmsLaunch(teacher, { link: "bio101-lab2", user: "u-ada", role: "Instructor" });
    await expect.poll(() => t.locator("h1").textContent()).toBe("Lab 2: Genetics");
    const teacherPath = new URL(teacher.frames().find((f) => f.url().includes("/contexts/"))!.url()).pathname;
    await teacher.close();

    const page = await browser.context.newPage();
    const tool = await lmsLaunch(page, { link: "bio101-lab2", user: "u-alan", role: "Learner" });
    await expect.poll(() => tool.locator("main").textContent()).toContain("Welcome, Alan Turing");
    await page.screenshot({ path: path.join(ARTIFACTS, "learner-in-lms.png"), fullPage: true });
    const learnerUrl = new URL(page.frames().find((f) => f.url().includes("/activity/"))!.url());
    const res = await fetch(`${app.url}${teacherPath}?s=${learnerUrl.searchParams.get("s")}`);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("This page is not for your account");
    await page.close();
  });

  it("answers 401 without a session and lets only the launching LMS frame the page", async () => {
    const page = await browser.context.newPage();
    const tool = await lmsLaunch(page, { link: "chem201-ps1", user: "u-ada", role: "Instructor" });
    await expect.poll(() => tool.locator("h1").textContent()).toBe("Problem Set 1");
    const inFrame = new URL(page.frames().find((f) => f.url().includes("/contexts/"))!.url());
    const framed = await fetch(inFrame);
    expect(framed.headers.get("content-security-policy")).toBe(`frame-ancestors 'self' ${new URL(emu.url).origin}`);
    const anonymous = await fetch(`${app.url}${inFrame.pathname}`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).toContain("Open Gradesync from your course");
    await page.close();
  });
});
