/**
 * The command line's operator commands: not runs — they change state and report what they did.
 * `rotate-keys` re-seals service keys; `pause`/`resume` stop and restart every call to an LMS for a
 * link (`--context`, an /api/status id) or a platform (`--platform`, the LTIAAS platform id);
 * `platform --platform ID --concurrency N|default` sets that platform's ceiling of requests in flight.
 */
import { rotateKeys } from "../crypto/rotate";
import type { Db } from "../db/client";
import { MAX_CEILING, setCeiling } from "../ltiaas/ceiling";
import type { PauseTarget } from "../grades/pause";
import { resolveContextArg, UsageError, type CliArgs } from "./cli-args";
import { requestPause } from "./requests";

export interface OperatorCommand {
  run(db: Db, args: CliArgs): Promise<Record<string, unknown>>;
  /** The report as a line of text (`--json` prints it as JSON). */
  text(result: Record<string, unknown>): string;
}

async function pauseTarget(db: Db, args: CliArgs): Promise<PauseTarget & { label: string }> {
  if (args.platform && args.context) throw new UsageError("give --platform ID or --context ID, not both");
  if (args.platform) return { platformId: args.platform, label: `platform ${args.platform}` };
  if (args.context) return { linkRef: (await resolveContextArg(db, args.context)).resourceLinkRef, label: `context ${args.context}` };
  throw new UsageError(`${args.command} needs --platform ID (an LTIAAS platform id) or --context ID (an /api/status id)`);
}

function pauseCommand(paused: boolean): OperatorCommand {
  return {
    async run(db, args) {
      const { label, ...target } = await pauseTarget(db, args);
      const r = await requestPause(target, paused);
      if (!r.found) throw new UsageError(`no ${label}`);
      return { [paused ? "paused" : "resumed"]: label, changed: r.changed, pushed: r.pushed };
    },
    text: (r) =>
      paused
        ? `${r.paused}: ${r.changed ? "paused" : "already paused"}; scores are still recorded, nothing is sent until it is resumed`
        : `${r.resumed}: ${r.changed ? "resumed" : "was not paused"}; ${r.pushed} course(s) pushed`,
  };
}

export const OPERATORS: Record<string, OperatorCommand> = {
  "rotate-keys": {
    run: async (db) => ({ ...(await rotateKeys(db)) }),
    text: (r) => `rotate-keys: ${Object.entries(r).map(([k, v]) => `${k} ${v}`).join(", ")}`,
  },
  pause: pauseCommand(true),
  resume: pauseCommand(false),
  platform: {
    async run(db, args) {
      if (!args.platform || !args.concurrency) throw new UsageError(`platform needs --platform ID --concurrency N (1–${MAX_CEILING}) or --concurrency default`);
      const ceiling = args.concurrency === "default" ? null : Number(args.concurrency);
      if (ceiling !== null && (!Number.isInteger(ceiling) || ceiling < 1 || ceiling > MAX_CEILING))
        throw new UsageError(`--concurrency takes a whole number from 1 to ${MAX_CEILING}, or default`);
      if (!(await setCeiling(db, args.platform, ceiling))) throw new UsageError(`no platform ${args.platform}`);
      return { platform: args.platform, ceiling: ceiling ?? "default" };
    },
    text: (r) => `platform ${r.platform}: ceiling ${r.ceiling === "default" ? "PLATFORM_CONCURRENCY (default)" : `${r.ceiling} requests in flight`}`,
  },
};
