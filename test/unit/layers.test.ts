/**
 * The layers of lib/ hold because `npm run lint` refuses an import that points up. These run the
 * project's own ESLint configuration on probe files placed in each layer (not written to disk).
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");

const PROBES: Record<string, [file: string, code: string]> = {
  domainToJobs: ["lib/grades/probe.ts", `import { dispatcher } from "../jobs/dispatch";\nexport const d = dispatcher;\n`],
  domainToInngestDynamic: ["lib/roster/probe.ts", `export const f = () => import("@/lib/inngest/client");\n`],
  baseToDomain: ["lib/ltiaas/probe.ts", `import { recordScores } from "../grades/record";\nexport const r = recordScores;\n`],
  libToApp: ["lib/jobs/probe.ts", `import { GET } from "@/app/api/health/route";\nexport const g = GET;\n`],
  domainToEmulator: ["lib/grades/probe.ts", `import { createEmulator } from "../emulator";\nexport const e = createEmulator;\n`],
  jobsDown: ["lib/jobs/probe.ts", `import { recordScores } from "../grades/record";\nimport { env } from "../env";\nexport const x = [recordScores, env];\n`],
  appDown: ["app/probe.ts", `import { dispatcher } from "@/lib/jobs/dispatch";\nexport const d = dispatcher;\n`],
};

// ESLint's import resolver does not run inside vitest's module runner: lint the probes in a child
// process with the project's configuration (probe files are linted from memory, never written).
const script = `
import { ESLint } from "eslint";
// no-cycle reads every file from disk: a probe linted from memory has none.
const eslint = new ESLint({ cwd: process.cwd(), overrideConfig: { rules: { "import/no-cycle": "off" } } });
const probes = JSON.parse(process.env.PROBES);
const out = {};
for (const [name, [file, code]] of Object.entries(probes)) {
  const [r] = await eslint.lintText(code, { filePath: file });
  out[name] = r.messages.filter((m) => m.ruleId === "import/no-restricted-paths" || m.fatal).map((m) => m.message);
}
console.log(JSON.stringify(out));`;

let found: Record<string, string[]> = {};
beforeAll(() => {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, env: { ...process.env, PROBES: JSON.stringify(PROBES) }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`eslint failed: ${r.stderr}`);
  found = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
}, 120_000);

const problems = async (name: keyof typeof PROBES) => found[name];

describe("layers (npm run lint)", { timeout: 60_000 }, () => {
  it("a domain may not import the jobs layer, statically or dynamically", async () => {
    expect(await problems("domainToJobs")).toEqual([
      expect.stringContaining("A domain never imports lib/jobs"),
    ]);
    expect(await problems("domainToInngestDynamic")).toEqual([
      expect.stringContaining("A domain never imports lib/jobs"),
    ]);
  });

  it("the base layer may not import a domain; lib may not import app/ or the emulator", async () => {
    expect(await problems("baseToDomain")).toEqual([expect.stringContaining("The base layer")]);
    expect(await problems("libToApp")).toEqual([expect.stringContaining("lib/ never imports app/")]);
    expect(await problems("domainToEmulator")).toEqual([expect.stringContaining("never imports the emulator")]);
  });

  it("imports that point down pass", async () => {
    expect(await problems("jobsDown")).toEqual([]);
    expect(await problems("appDown")).toEqual([]);
  });
});
