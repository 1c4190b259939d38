/**
 * No plaintext secret at rest or in the logs: launches run against a PGlite data directory on disk,
 * then every file of it and every captured log line is searched for the service keys and the API key.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { GET } from "@/app/launch/route";
import { openDatabase, setDbForTests, type DbHandle } from "@/lib/db/client";
import { setEnvForTests } from "@/lib/env";
import { useEmulator } from "../support/emulator";
import { TEST_KEYS, testEnv } from "../support/env";

const emu = useEmulator();
let dir: string;
let handle: DbHandle;
const logged: string[] = [];

beforeAll(async () => {
  process.env.GRADESYNC_LOG = "on";
  dir = mkdtempSync(path.join(os.tmpdir(), "gradesync-secrets-"));
  setEnvForTests(testEnv({ LTIAAS_URL: emu.url }));
  handle = await openDatabase({ driver: "pglite", dir: path.join(dir, "pglite") });
  setDbForTests(handle);
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
      logged.push(text);
      // The app's log lines are what this test reads: captured, not printed (npm test stays quiet).
      if (text.startsWith('{"at":')) return true;
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    });
  }
});

afterAll(async () => {
  vi.restoreAllMocks();
  setDbForTests(undefined);
  setEnvForTests(testEnv());
  rmSync(dir, { recursive: true, force: true });
});

function filesUnder(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const p = path.join(root, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

it("keeps no plaintext service key or API key in the data directory or the logs", async () => {
  const roles = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"];
  const launches = [
    emu.emulator.createLaunch({ platformId: "p1", contextId: "c1", resourceLinkId: "r1", user: { id: "t1" }, roles }),
    emu.emulator.createLaunch({ platformId: "p1", contextId: "c1", resourceLinkId: "r1", user: { id: "t1" }, roles }),
    emu.emulator.createLaunch({ platformId: "p1", contextId: "c2", resourceLinkId: "r9", user: { id: "s1" }, roles: ["Learner"] }),
  ];
  const answers: Response[] = [];
  for (const l of launches) answers.push(await GET(new Request(`http://localhost/launch?ltik=${l.ltik}`)));
  expect(answers.map((a) => a.status)).toEqual([303, 303, 303]);
  emu.emulator.expireLtik(launches[0].ltik);
  expect((await GET(new Request(`http://localhost/launch?ltik=${launches[0].ltik}`))).status).toBe(401);

  await handle.close();
  const secrets = [...launches.map((l) => l.serviceKey!), TEST_KEYS.apiKey];
  expect(secrets.every((s) => s.length >= 8)).toBe(true);
  const files = filesUnder(path.join(dir, "pglite"));
  expect(files.length).toBeGreaterThan(50);
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const secret of secrets) expect(bytes.includes(Buffer.from(secret)), `${path.relative(dir, file)} holds a secret`).toBe(false);
  }
  // The sealed values are there: the search would have found a plaintext copy.
  const all = Buffer.concat(files.map((f) => readFileSync(f)));
  expect(all.includes(Buffer.from("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIi"))).toBe(true);

  expect(logged.join("")).toContain("launch.ok");
  // The refused launch is logged with its reason, for the operator, and still without the ltik.
  expect(logged.join("")).toMatch(/"event":"launch.rejected","status":401,"code":"launch_refused"/);
  for (const secret of [...secrets, ...launches.map((l) => l.ltik), TEST_KEYS.session]) expect(logged.join("")).not.toContain(secret);
  for (const a of answers) {
    const headers = JSON.stringify([...a.headers]);
    for (const secret of secrets) expect(headers).not.toContain(secret);
  }
});
