/**
 * Starts `next dev` in a directory on a free port, as `npm run dev` does (loopback only), and stops
 * it again. The server runs in its own process group so stopping it also stops the workers it forked
 * — only what we started. Used by the dev-server e2e test and the dev soak script.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { freePort } from "./next-server";

export interface DevServer {
  url: string;
  port: number;
  pid: number;
  /** Everything the server printed so far. */
  output(): string;
  /** Resolves once the output (from `from` on) matches; rejects if the server exits first or after the timeout. */
  waitFor(pattern: RegExp, options?: { from?: number; timeoutMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

export async function startNextDev(dir: string, env: Record<string, string> = {}, options: { port?: number } = {}): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  let output = "";
  const child: ChildProcess = spawn(process.execPath, [path.join(dir, "node_modules/next/dist/bin/next"), "dev", "-H", "127.0.0.1", "-p", String(port)], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", NODE_ENV: "development", NEXT_TELEMETRY_DISABLED: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      /* already gone */
    }
  };
  // Whatever ends this process, the server goes with it.
  const onExit = () => killGroup("SIGKILL");
  process.on("exit", onExit);

  const server: DevServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    output: () => output,
    async waitFor(pattern, { from = 0, timeoutMs = 180_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output.slice(from))) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`next dev exited before printing ${pattern}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`next dev did not print ${pattern} in time:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      process.off("exit", onExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup("SIGTERM");
      const timer = setTimeout(() => killGroup("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
      // Workers Next forked may outlive the parent by a moment.
      killGroup("SIGKILL");
    },
  };
  await server.waitFor(/Ready in/);
  return server;
}
