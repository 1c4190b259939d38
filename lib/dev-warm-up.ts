/**
 * Development only: right after `next dev` starts, request the LMS simulator and the tool's pages
 * once over the loopback, one after the other, so Turbopack compiles them while the newcomer is
 * still reading the terminal instead of after their first click (a first compile of the teacher's
 * page takes 20–30 s on two cores). Nothing is rendered for anyone: the pages answer these
 * session-less requests with their sign-in refusals, and the launch route only with OPTIONS (no
 * handler code runs). What it does is said in the terminal, before and after.
 */

/** In the order a newcomer meets them: the simulator, the launch, the teacher's page, the learner's, /admin. */
export const WARM_UP_PATHS: { path: string; method: "GET" | "OPTIONS"; what: string }[] = [
  { path: "/emulator/lms", method: "GET", what: "the LMS simulator" },
  { path: "/launch", method: "OPTIONS", what: "the launch" },
  { path: "/contexts/warm-up", method: "GET", what: "the teacher's page" },
  { path: "/activity/warm-up", method: "GET", what: "the learner's page" },
  { path: "/admin", method: "GET", what: "/admin" },
];

export interface WarmUpOptions {
  /** Where this server listens, e.g. http://127.0.0.1:3000. */
  origin: string;
  /** Which pages (default all of WARM_UP_PATHS; without the emulator, its page is left out). */
  paths?: typeof WARM_UP_PATHS;
  print?: (line: string) => void;
  /** How long to wait for the server to take requests at all. */
  startTimeoutMs?: number;
}

/** Requests each page once; resolves with the seconds it took (never rejects: a warm-up is a courtesy). */
export async function warmUp({ origin, paths = WARM_UP_PATHS, print = (l) => console.log(l), startTimeoutMs = 60_000 }: WarmUpOptions): Promise<number | undefined> {
  const started = performance.now();
  const request = async (path: string, method: string) => {
    const res = await fetch(`${origin}${path}`, { method, redirect: "manual", signal: AbortSignal.timeout(300_000) });
    await res.arrayBuffer();
  };
  // register() runs before the server listens: the first request waits until it answers.
  const [first, ...rest] = paths;
  if (!first) return undefined;
  const deadline = Date.now() + startTimeoutMs;
  print(`  Gradesync: compiling the simulator and the tool's pages in the background (about a minute on a first run); a page opened meanwhile waits for it.\n`);
  for (;;) {
    try {
      await request(first.path, first.method);
      break;
    } catch {
      if (Date.now() > deadline) return undefined;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  for (const { path, method } of rest) {
    try {
      await request(path, method);
    } catch {
      /* the server went away or the page failed to compile: the developer sees that when they open it */
    }
  }
  const seconds = (performance.now() - started) / 1000;
  print(`  Gradesync: pages compiled in ${seconds.toFixed(0)} s — launches answer quickly now.`);
  return seconds;
}
