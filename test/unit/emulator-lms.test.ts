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
