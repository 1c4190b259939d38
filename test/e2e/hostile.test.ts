/**
 * Issue 11 against the production build: what only Next's own request handling, the proxy and the
 * server's start decide. /api/inngest is a 404 when jobs run inline and refuses unsigned calls in
 * Inngest's cloud mode; malformed percent-encoding gets the site's 404; a server action or form
 * posted with a body Next cannot read gets a 400 with words; the admin search survives a NUL; demo
 * mode never lets X-Forwarded-Host decide who may frame the tool. (Inputs our own code reads are in
 * test/integration/hostile-input.test.ts and properties.test.ts.)
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminCookieValue, ADMIN_COOKIE } from "@/lib/session/admin-access";
import { startNext, type NextServer } from "../support/next-server";

const root = path.resolve(import.meta.dirname, "../..");
const dataDir = mkdtempSync(path.join(os.tmpdir(), "gradesync-hostile-"));
const ADMIN_TOKEN = "e2e-hostile-admin-token-long-enough";
const SIGNING_KEY = "signkey-prod-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const secrets = {
  ENCRYPTION_KEYS: Buffer.alloc(32, 7).toString("base64url"),
  SESSION_SECRET: "production-session-secret-of-enough-length",
  LTIAAS_API_KEY: "prod-api-key-hostile",
  ADMIN_TOKEN,
};

let demo: NextServer;
beforeAll(async () => {
  // Inline jobs, the bundled emulator (demo mode), an operator token.
  demo = await startNext({ ...secrets, GRADESYNC_EMULATOR: "1", PGLITE_DIR: path.join(dataDir, "demo") });
});
afterAll(async () => {
  await demo?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Action ids of this build, by exported name. */
function actionIds(): Record<string, string> {
  const manifest = JSON.parse(readFileSync(path.join(root, ".next/server/server-reference-manifest.json"), "utf8")) as {
    node: Record<string, { exportedName?: string }>;
  };
  return Object.fromEntries(Object.entries(manifest.node).map(([id, v]) => [v.exportedName ?? id, id]));
}

describe("/api/inngest", () => {
  it("answers 404 to anyone when jobs run inline (it answered 500 and logged an error)", async () => {
    for (const method of ["GET", "POST", "PUT"]) {
      const res = await fetch(`${demo.url}/api/inngest?fnId=gradesync-backfill&stepId=step`, { method, body: method === "GET" ? undefined : "{}" });
      expect(res.status).toBe(404);
    }
  });

  it("in Inngest cloud mode (signing key set) refuses an unsigned call, recording nothing", async () => {
    const cloud = await startNext({
      ...secrets,
      LTIAAS_URL: "https://school.ltiaas.example",
      INNGEST_EVENT_KEY: "e2e-event-key",
      INNGEST_SIGNING_KEY: SIGNING_KEY,
      PGLITE_DIR: path.join(dataDir, "cloud"),
    });
    try {
      const forged = {
        event: { name: "gradesync/backfill.requested", data: { request: { scores: [{ platformId: "p", contextId: "c", resourceLinkId: "r", userId: "u", scoreGiven: 10, scoreMaximum: 10 }] } } },
        events: [],
        steps: {},
        ctx: { run_id: "01J0000000000000000000000", attempt: 0, stack: { stack: [] } },
      };
      const signatures: Record<string, string>[] = [{}, { "x-inngest-signature": `t=${Math.floor(Date.now() / 1000)}&s=${"0".repeat(64)}` }];
      for (const headers of signatures) {
        const res = await fetch(`${cloud.url}/api/inngest?fnId=gradesync-backfill&stepId=step`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify(forged),
        });
        expect(res.status).toBe(401);
        expect(await res.text()).not.toContain("applied");
      }
      const health = await (await fetch(`${cloud.url}/api/health`)).json();
      expect(health).toMatchObject({ pending: 0 });
      expect(cloud.output()).not.toContain(SIGNING_KEY);
    } finally {
      await cloud.stop();
    }
  });
});

describe("malformed percent-encoding", () => {
  it.each(["/contexts/%ZZ", "/activity/%ZZ", "/activity/%E0%A4%A", "/emulator/%ZZ", "/admin/%ZZ"])("%s gets the site's own 404 page, not a 500", async (p) => {
    const res = await fetch(`${demo.url}${p}`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("Nothing here");
  });

  it("/api/cron/%ZZ gets a JSON 404", async () => {
    const res = await fetch(`${demo.url}/api/cron/%ZZ`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "not_found" });
  });
});

describe("server actions and forms posted with a body Next cannot read", () => {
  const words = "This form could not be read";
  const origin = () => ({ origin: demo.url });

  it.each(["submitQuizAction", "syncNowAction", "retryFailedAction", "signInAction", "backfillAction"])(
    "%s: text/plain [null,\"x\"] is a 400 with words, on its page and on any other",
    async (name) => {
      const id = actionIds()[name];
      expect(id, name).toBeTruthy();
      for (const page of ["/", "/admin", "/activity/00000000-0000-4000-8000-000000000000", "/contexts/00000000-0000-4000-8000-000000000000"]) {
        const res = await fetch(`${demo.url}${page}`, {
          method: "POST",
          headers: { "next-action": id, "content-type": "text/plain;charset=UTF-8", ...origin() },
          body: '[null,"x"]',
        });
        expect(res.status, `${name} at ${page}`).toBe(400);
        expect(await res.text()).toContain(words);
      }
    },
  );

  it("a multipart body that does not parse, or is not what React writes for a form, is a 400 too", async () => {
    const id = actionIds().signInAction;
    const garbage = { "content-type": "multipart/form-data; boundary=XX", ...origin() };
    const cases: [Record<string, string>, BodyInit][] = [
      [{ ...garbage, "next-action": id }, "garbage without a boundary"],
      [garbage, "garbage without a boundary"], // a plain form post (no JavaScript) to any page
    ];
    const fields = (entries: [string, string][]) => {
      const f = new FormData();
      for (const [k, v] of entries) f.set(k, v);
      return f;
    };
    for (const body of [fields([["token", "abc"]]), fields([["0", '[null,"$Q3"]']]), fields([["0", "[not json"]])]) cases.push([{ "next-action": id, ...origin() }, body]);
    for (const [headers, body] of cases) {
      const res = await fetch(`${demo.url}/admin`, { method: "POST", headers, body });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(words);
    }
    // The shape React writes still reaches the action.
    const ok = await fetch(`${demo.url}/admin`, {
      method: "POST",
      headers: { "next-action": id, accept: "text/x-component", ...origin() },
      body: fields([["0", '[{"error":null},"$K1"]'], ["_1_token", "wrong-token-000000000"]]),
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/That token is not right|Too many failed sign-ins/);
  });
});

describe("the admin search", () => {
  it("answers a NUL with words on the dashboard, which stays up", async () => {
    const res = await fetch(`${demo.url}/admin?q=x%00y`, { headers: { cookie: `${ADMIN_COOKIE}=${adminCookieValue(ADMIN_TOKEN).value}` } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("Nothing searched");
    expect(html).toContain("Gradesync operations");
    expect(html).not.toContain("unreachable");
  });
});

describe("demo mode (GRADESYNC_EMULATOR=1)", () => {
  it("never takes who may frame the tool from X-Forwarded-Host", async () => {
    const lms = await fetch(`${demo.url}/emulator/lms/launch?link=bio101-lab2&user=u-alan&role=Learner`, {
      headers: { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" },
    });
    const src = /class="tool"[^>]*\ssrc="([^"]+)"/.exec(await lms.text())?.[1]?.replaceAll("&amp;", "&");
    expect(src).toBeTruthy();
    const launch = await fetch(`${demo.url}${new URL(src!).pathname}${new URL(src!).search}`, { redirect: "manual" });
    expect(launch.status).toBe(303);
    const page = await fetch(`${demo.url}${launch.headers.get("location")}`);
    expect(page.status).toBe(200);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toMatch(/^frame-ancestors 'self'/);
    expect(csp).not.toContain("evil.example");
  });
});
