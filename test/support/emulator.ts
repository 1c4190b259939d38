/** Starts the emulator on a local port for a test file: `const emu = useEmulator(); … emu.url, emu.emulator`. */
import { afterAll, beforeAll, beforeEach } from "vitest";
import { startEmulatorServer, type EmulatorServer } from "@/lib/emulator/server";
import type { Emulator } from "@/lib/emulator";
import { TEST_KEYS } from "./env";

export interface UseEmulatorOptions {
  /** Reset state, faults and log before every test. Default false. */
  resetEach?: boolean;
  toolUrl?: string;
  basePath?: string;
}

export interface EmulatorHandle {
  /** Base URL of the emulator (what LTIAAS_URL would be), available from beforeAll on. */
  readonly url: string;
  readonly emulator: Emulator;
}

export function useEmulator(opts: UseEmulatorOptions = {}): EmulatorHandle {
  let server: EmulatorServer | undefined;
  const started = () => {
    if (!server) throw new Error("useEmulator(): the emulator starts in beforeAll; use it inside tests or hooks.");
    return server;
  };
  beforeAll(async () => {
    server = await startEmulatorServer({ apiKey: TEST_KEYS.apiKey, toolUrl: opts.toolUrl, basePath: opts.basePath });
  });
  if (opts.resetEach) beforeEach(() => started().emulator.reset());
  afterAll(async () => {
    await server?.close();
    server = undefined;
  });
  return {
    get url() {
      return started().url;
    },
    get emulator() {
      return started().emulator;
    },
  };
}
