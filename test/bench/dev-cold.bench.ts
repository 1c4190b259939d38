/**
 * Cold `npm run dev` to the first launch, as a newcomer sees it: a fresh export of HEAD (no .next,
 * no .data; node_modules hard-linked, Turbopack refuses a symlink), `next dev`, the LMS simulator's
 * launch of a teacher, the teacher's page rendered. Prints the seconds from the command to that page.
 */
import { execSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../support/next-server";

const root = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(os.tmpdir(), "gradesync-cold-"));
execSync(`git -C ${root} archive HEAD | tar -x -C ${dir} && cp -al ${root}/node_modules ${dir}/node_modules`);
const port = await freePort();
const started = performance.now();
const dev = spawn(process.execPath, [path.join(dir, "node_modules/next/dist/bin/next"), "dev", "-H", "127.0.0.1", "-p", String(port)], {
  cwd: dir,
  env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", NODE_ENV: "development", NEXT_TELEMETRY_DISABLED: "1" },
  stdio: "ignore",
});
try {
  const lms = `http://127.0.0.1:${port}/emulator/lms`;
  for (;;) {
    try {
      if ((await fetch(lms)).ok) break;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const page = await (await fetch(`${lms}/launch?link=bio101-lab1&user=u-ada&role=Instructor&lineItem=with`)).text();
  const src = /src="([^"]*\/launch\?ltik=[^"]*)"/.exec(page)?.[1]?.replaceAll("&amp;", "&");
  if (!src) throw new Error("the LMS page framed no launch");
  const launch = await fetch(src, { redirect: "manual" });
  const teacher = await fetch(new URL(launch.headers.get("location")!, src));
  if (teacher.status !== 200) throw new Error(`teacher page answered ${teacher.status}`);
  console.log(`cold npm run dev → teacher page after the first launch: ${((performance.now() - started) / 1000).toFixed(1)} s`);
} finally {
  dev.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 1000));
  rmSync(dir, { recursive: true, force: true });
}
