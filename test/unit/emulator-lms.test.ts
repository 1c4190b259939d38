import { describe, expect, it } from "vitest";
import { createEmulator, type Emulator } from "@/lib/emulator";
import { TEST_KEYS } from "../support/env";

const API_KEY = TEST_KEYS.apiKey;

async function page(emu: Emulator, url: string, init?: RequestInit) {
  const res = await emu.handle(new Request(url, init));
  return { status: res.status, headers: res.headers, html: await res.text() };
}

const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});

function iframeSrc(html: string): string {
  const m = /<iframe class="tool"[^>]*\ssrc="([^"]+)"[^>]*allow="clipboard-write"/.exec(html);
  expect(m, "tool iframe").not.toBeNull();
  return m![1].replaceAll("&amp;", "&");
}

async function idtoken(emu: Emulator, ltik: string) {
  const res = await emu.handle(
    new Request("http://127.0.0.1:3000/emulator/api/idtoken", { headers: { authorization: `LTIK-AUTH-V2 ${API_KEY}:${ltik}` } }),
  );
  return res.json();
}

describe("LMS simulator page", () => {
  it("offers courses, activities, people, roles and the line item choice", async () => {
    const emu = createEmulator({ apiKey: API_KEY });
    const p = await page(emu, "http://127.0.0.1:3000/lms");
    expect(p.status).toBe(200);
    expect(p.headers.get("content-type")).toContain("text/html");
    expect(p.html).toContain('<form class="launch" method="post" action="http://127.0.0.1:3000/lms/launch">');
    for (const text of ["Introduction to Biology", "Lab 1: Cells", "Ada Lovelace", "Test Student", "Instructor+Learner", "Mentor", 'name="lineItem" value="without"']) {
      expect(p.html).toContain(text);
    }
    expect((await page(emu, "http://127.0.0.1:3000/")).headers.get("location")).toBe("http://127.0.0.1:3000/lms");
  });

  it("launches into an iframe on localhost (another site), as the chosen person and role", async () => {
    const emu = createEmulator({ apiKey: API_KEY, basePath: "/emulator" });
    const p = await page(
      emu,
      "http://127.0.0.1:3000/emulator/lms/launch",
      form({ link: "bio101-lab2", user: "u-alan", role: "Test Student", lineItem: "with" }),
    );
    expect(p.status).toBe(200);
    expect(p.html).toContain("Introduction to Biology");
    expect(p.html).not.toMatch(/\ssandbox[\s=>]/);
    const src = new URL(iframeSrc(p.html));
    expect(src.origin).toBe("http://localhost:3000");
    expect(src.pathname).toBe("/launch");
    const token = await idtoken(emu, src.searchParams.get("ltik")!);
    expect(token).toMatchObject({
      user: { id: "u-alan", name: "Alan Turing", roles: expect.arrayContaining(["http://purl.imsglobal.org/vocab/lti/system/person#TestUser"]) },
      platform: { id: "demo-canvas", url: "http://127.0.0.1:3000/emulator/lms/demo-canvas", productFamilyCode: "canvas" },
      launch: { context: { id: "bio101", title: "Introduction to Biology" }, resourceLink: { id: "bio101-lab2", title: "Lab 2: Genetics" } },
      services: { assignmentAndGrades: { available: true, lineItemId: expect.stringContaining("/line_items/") } },
    });
    // The page and the log never show keys; the seeded roster is there for the tool's NRPS calls.
    expect(p.html).not.toContain(API_KEY);
    expect(p.html).not.toContain(token.services.serviceKey);
    expect(emu.members("demo-canvas", "bio101").length).toBeGreaterThanOrEqual(10);

    // One column per activity: a second "with" launch reuses it; "without" names none.
    const again = await page(emu, `http://127.0.0.1:3000/emulator/lms/launch?link=bio101-lab2&user=u-ada&lineItem=with`);
    const second = await idtoken(emu, new URL(iframeSrc(again.html)).searchParams.get("ltik")!);
    expect(second.services.assignmentAndGrades.lineItemId).toBe(token.services.assignmentAndGrades.lineItemId);
    expect(second.user.roles).toEqual(["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]);
    expect(emu.lineItems("demo-canvas", "bio101")).toHaveLength(1);
    const without = await page(emu, `http://127.0.0.1:3000/emulator/lms/launch?link=hist110-quiz&user=u-katherine&lineItem=without`);
    const third = await idtoken(emu, new URL(iframeSrc(without.html)).searchParams.get("ltik")!);
    expect(third.platform.productFamilyCode).toBe("moodle");
    expect(third.services.assignmentAndGrades).toEqual({ available: true });
  });

  it("takes its origin from the Host header (Next hands route handlers a localhost URL)", async () => {
    const emu = createEmulator({ apiKey: API_KEY, basePath: "/emulator" });
    const p = await page(emu, "http://localhost:3000/emulator/lms/launch?link=bio101-lab1&user=u-ada", { headers: { host: "127.0.0.1:3000" } });
    expect(p.html).toContain('action="http://127.0.0.1:3000/emulator/lms/launch"');
    expect(iframeSrc(p.html)).toMatch(/^http:\/\/localhost:3000\/launch\?ltik=/);
  });

  it("uses the configured tool URL", async () => {
    const emu = createEmulator({ apiKey: API_KEY, toolUrl: "http://localhost:4123/" });
    const p = await page(emu, "http://127.0.0.1:9999/lms/launch?link=chem201-ps1&user=u-grace&role=TA");
    expect(iframeSrc(p.html)).toMatch(/^http:\/\/localhost:4123\/launch\?ltik=/);
  });

  it("escapes what it echoes and shows the request log without keys", async () => {
    const emu = createEmulator({ apiKey: API_KEY });
    const bad = await page(emu, `http://127.0.0.1:3000/lms/launch?link=${encodeURIComponent('<script>alert("x")</script>')}`);
    expect(bad.status).toBe(400);
    expect(bad.html).not.toContain("<script>");
    expect(bad.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect((await page(emu, "http://127.0.0.1:3000/lms/launch?link=bio101-lab1&role=Dean")).status).toBe(400);

    const { ltik, serviceKey } = emu.createLaunch({ platformId: "demo-canvas", contextId: "bio101", resourceLinkId: "bio101-lab1", user: { id: "u-alan" }, roles: ["Learner"] });
    const lineItemId = emu.addLineItem("demo-canvas", "bio101", { label: "Lab <1>", scoreMaximum: 10 });
    await emu.handle(
      new Request(`http://127.0.0.1:3000/api/lineitems/${encodeURIComponent(lineItemId)}/scores`, {
        method: "POST",
        headers: { authorization: `SERVICE-AUTH-V1 ${API_KEY}:${serviceKey}`, "content-type": "application/json" },
        body: JSON.stringify({ userId: "u-alan", activityProgress: "Completed", gradingProgress: "FullyGraded", scoreGiven: 4, scoreMaximum: 5 }),
      }),
    );
    const panel = await page(emu, "http://127.0.0.1:3000/lms/panel?platformId=demo-canvas&contextId=bio101");
    expect(panel.html).toContain('http-equiv="refresh"');
    expect(panel.html).toContain("Lab &lt;1&gt;");
    expect(panel.html).toMatch(/<td title="[^"]*">8<\/td>/);
    expect(panel.html).toContain("/scores</td><td>204</td>");
    for (const secret of [API_KEY, ltik, serviceKey!]) expect(panel.html).not.toContain(secret);
  });
});

// Demo mode (GRADESYNC_EMULATOR=1) serves this simulator on a public host. The platform's URL it
// launches with becomes the tool's frame-ancestors, and the first launch fixes it for everyone.
describe("the simulator's platform URL on a public host", () => {
  const launchWith = (emu: Emulator, url: string, headers: Record<string, string>) =>
    page(emu, url, { ...form({ link: "bio101-lab2", user: "u-alan", role: "Learner", lineItem: "with" }), headers: { ...form({}).headers, ...headers } });

  it("is never taken from X-Forwarded-Host (or X-Forwarded-Proto), which a client sends as it likes", async () => {
    const emu = createEmulator({ apiKey: API_KEY, basePath: "/emulator" });
    const p = await launchWith(emu, "https://demo.gradesync.example/emulator/lms/launch", {
      host: "demo.gradesync.example",
      "x-forwarded-host": "evil.example",
      "x-forwarded-proto": "https",
    });
    expect(p.status).toBe(200);
    const token = await idtoken(emu, new URL(iframeSrc(p.html)).searchParams.get("ltik")!);
    expect(JSON.stringify(token)).not.toContain("evil.example");
    // A later visitor on the real host launches with the same platform URL: still nothing of the attacker's.
    const later = await launchWith(emu, "https://demo.gradesync.example/emulator/lms/launch", { host: "demo.gradesync.example" });
    const again = await idtoken(emu, new URL(iframeSrc(later.html)).searchParams.get("ltik")!);
    expect(again.platform.url).toBe(token.platform.url);
    expect(again.platform.url).toMatch(/^https:\/\/[a-z0-9-]+\.lms\.example\.com$/);
  });

  it("is not taken from a Host header naming another site either", async () => {
    const emu = createEmulator({ apiKey: API_KEY, basePath: "/emulator" });
    const p = await launchWith(emu, "https://evil.example/emulator/lms/launch", { host: "evil.example" });
    const token = await idtoken(emu, new URL(iframeSrc(p.html)).searchParams.get("ltik")!);
    expect(token.platform.url).not.toContain("evil.example");
    expect(token.launch.presentation.returnUrl).not.toContain("evil.example");
  });
});

describe("LMS simulator gradebook page", () => {
  const base = "http://127.0.0.1:3000/emulator";
  const gradebook = `${base}/lms/gradebook?platformId=demo-canvas&contextId=bio101`;

  /** A launch that makes Lab 1's column, and the column's id. */
  async function withColumn(emu: Emulator) {
    await page(emu, `${base}/lms/launch?link=bio101-lab1&user=u-ada&lineItem=with`);
    return emu.lineItems("demo-canvas", "bio101")[0].id;
  }

  async function postScore(emu: Emulator, lineItemId: string, body: Record<string, unknown>) {
    const { serviceKey } = emu.createLaunch({ platformId: "demo-canvas", contextId: "bio101", resourceLinkId: "bio101-lab1", user: { id: "u-ada" }, roles: ["Instructor"] });
    const res = await emu.handle(
      new Request(`${base}/api/lineitems/${encodeURIComponent(lineItemId)}/scores`, {
        method: "POST",
        headers: { authorization: `SERVICE-AUTH-V1 ${API_KEY}:${serviceKey}`, "content-type": "application/json" },
        body: JSON.stringify({ activityProgress: "Completed", gradingProgress: "FullyGraded", scoreMaximum: 10, ...body }),
      }),
    );
    expect(res.status).toBe(204);
  }

  it("is linked from the LMS and the course page, and shows every learner's cell with a form", async () => {
    const emu = createEmulator({ apiKey: API_KEY, basePath: "/emulator" });
    const home = await page(emu, `${base}/lms`);
    expect(home.html).toContain(`href="${gradebook.replaceAll("&", "&amp;")}"`);
    const course = await page(emu, `${base}/lms/launch?link=bio101-lab1&user=u-ada&lineItem=with`);
    expect(course.html).toContain("Edit grades and LMS settings");

    const p = await page(emu, gradebook);
    expect(p.status).toBe(200);
    expect(p.html).toContain("Lab 1: Cells");
    for (const text of ["Alan Turing", "Margaret Hamilton", 'name="do" value="clear"', 'name="family"', 'name="mode"', 'name="due"', "Canvas (emulated)"]) {
      expect(p.html).toContain(text);
    }
    expect(p.html).not.toContain("Ada Lovelace</td>"); // a teacher has no cell
    expect((await page(emu, `${base}/lms/gradebook?platformId=demo-canvas&contextId=nope`)).status).toBe(404);
    expect((await page(emu, `${base}/lms/gradebook`)).status).toBe(400);
  });

  it("sets and clears a grade by hand (a person's), and the panel shows it", async () => {
    const emu = createEmulator({ apiKey: API_KEY, basePath: "/emulator" });
    const id = await withColumn(emu);
    await postScore(emu, id, { userId: "u-alan", scoreGiven: 7 });
    const set = await page(emu, gradebook, form({ action: "grade", lineItemId: id, userId: "u-alan", do: "set", value: "42.5" }));
    expect(set.status).toBe(303);
    expect(set.headers.get("location")).toMatch(/^http:\/\/127\.0\.0\.1:3000\/emulator\/lms\/gradebook\?platformId=demo-canvas&contextId=bio101&notice=/);
    expect(emu.gradebook(id).find((c) => c.userId === "u-alan")).toMatchObject({ resultScore: 42.5, setBy: "person", listed: true });
    const after = await page(emu, set.headers.get("location")!);
    expect(after.html).toContain("Set Alan Turing&#39;s grade in Lab 1: Cells to 42.5 by hand.");
    expect(after.html).toMatch(/<span class="value">42\.5<\/span><span class="tag hand">by hand<\/span><span class="tag">1 attempt<\/span>/);
    const panel = await page(emu, `${base}/lms/panel?platformId=demo-canvas&contextId=bio101`);
    expect(panel.html).toMatch(/>42\.5<span class="tag hand">by hand<\/span><\/td>/);

    expect((await page(emu, gradebook, form({ action: "grade", lineItemId: id, userId: "u-alan", do: "clear" }))).status).toBe(303);
    const cleared = emu.gradebook(id).find((c) => c.userId === "u-alan")!;
    expect(cleared).toMatchObject({ setBy: "person", listed: false });
    expect(cleared).not.toHaveProperty("resultScore");

    const bad = await page(emu, gradebook, form({ action: "grade", lineItemId: id, userId: "u-alan", do: "set", value: "-3" }));
    expect(bad.status).toBe(400);
    expect(bad.html).toContain("is not a number of 0 or more");
    expect((await page(emu, gradebook, form({ action: "grade", lineItemId: id, userId: "u-alan", do: "set", value: "" }))).html).toContain("Type a grade");
    expect((await page(emu, gradebook, form({ action: "explode" }))).status).toBe(400);
  });

  it("sets a column's due date and knobs; the panel marks a late Canvas submission", async () => {
    const emu = createEmulator({ apiKey: API_KEY, basePath: "/emulator" });
    const id = await withColumn(emu);
    const saved = await page(emu, gradebook, form({ action: "lineItem", lineItemId: id, due: "2020-01-31T23:59", dropZeroScores: "on", discardScores: "inherit" }));
    expect(saved.status).toBe(303);
    expect(emu.lineItems("demo-canvas", "bio101")[0].endDateTime).toBe("2020-01-31T23:59:00.000Z");
    expect(emu.gradebookKnobs(id)).toEqual({ dropZeroScores: true, discardScores: false });
    expect((await page(emu, gradebook)).html).toContain('value="2020-01-31T23:59"');

    await postScore(emu, id, { userId: "u-katherine", scoreGiven: 9 });
    const panel = await page(emu, `${base}/lms/panel?platformId=demo-canvas&contextId=bio101`);
    expect(panel.html).toMatch(/>90<span class="tag late">late<\/span><\/td>/);

    await page(emu, gradebook, form({ action: "lineItem", lineItemId: id, due: "", dropZeroScores: "inherit", discardScores: "inherit" }));
    expect(emu.lineItems("demo-canvas", "bio101")[0]).not.toHaveProperty("endDateTime");
    expect(emu.gradebookKnobs(id).dropZeroScores).toBe(false);
  });

  it("switches the platform's LMS family, knobs and throttle", async () => {
    const emu = createEmulator({ apiKey: API_KEY, basePath: "/emulator" });
    await withColumn(emu);
    expect(emu.lmsFamily("demo-canvas")).toBe("canvas");
    await page(emu, gradebook, form({ action: "lms", family: "moodle", discardScores: "on" }));
    expect(emu.lmsFamily("demo-canvas")).toBe("moodle");
    const id = emu.lineItems("demo-canvas", "bio101")[0].id;
    expect(emu.gradebookKnobs(id)).toEqual({ dropZeroScores: false, discardScores: true });

    const t = await page(emu, gradebook, form({ action: "throttle", mode: "canvas", highWaterMark: "100", requestCost: "0.5", upFrontCost: "" }));
    expect(t.status).toBe(303);
    expect(emu.throttle("demo-canvas")).toMatchObject({
      settings: { mode: "canvas", highWaterMark: 100, requestCost: 0.5, upFrontCost: 50, outflowPerSecond: 10 },
      relayHeaders: false,
    });
    await page(emu, gradebook, form({ action: "throttle", mode: "d2l", credits: "500", relayHeaders: "on" }));
    expect(emu.throttle("demo-canvas")).toMatchObject({ settings: { mode: "d2l", credits: 500, costPerCall: 10 }, relayHeaders: true });
    const shown = await page(emu, gradebook);
    expect(shown.html).toContain('<option value="d2l" selected>');
    expect(shown.html).toContain('<option value="moodle" selected>');

    await page(emu, gradebook, form({ action: "lms", family: "auto" }));
    expect(emu.lmsFamily("demo-canvas")).toBe("canvas");
    const badThrottle = await page(emu, gradebook, form({ action: "throttle", mode: "d2l", windowSeconds: "0" }));
    expect(badThrottle.status).toBe(400);
    expect(badThrottle.html).toContain("windowSeconds must be &gt; 0");
  });
});
