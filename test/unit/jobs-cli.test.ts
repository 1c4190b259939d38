import { describe, expect, it } from "vitest";
import { exitCodeFor, parseCliArgs, parseCsv, UsageError } from "@/lib/jobs/cli";

describe("job CLI arguments", () => {
  it("parses a command and its flags", () => {
    expect(parseCliArgs(["backfill", "--context", "x", "--since", "2026-11-01T00:00:00Z", "--dry-run", "--json"])).toEqual({
      command: "backfill",
      context: "x",
      since: "2026-11-01T00:00:00Z",
      file: undefined,
      dryRun: true,
      json: true,
    });
  });

  it("refuses an unknown command, an unknown flag, a bad --since", () => {
    expect(() => parseCliArgs([])).toThrow(UsageError);
    expect(() => parseCliArgs(["push-everything"])).toThrow(UsageError);
    expect(() => parseCliArgs(["push-grades", "--force"])).toThrow(UsageError);
    expect(() => parseCliArgs(["push-grades", "--since", "yesterday"])).toThrow(/ISO/);
  });

  it("maps outcomes to exit codes: completed 0, partial 2, failed 1", () => {
    expect(exitCodeFor({ outcome: "completed" })).toBe(0);
    expect(exitCodeFor({ outcome: "partial" })).toBe(0);
    expect(exitCodeFor({ outcome: "failed" })).toBe(1);
  });

  it("reads CSV with quotes, doubled quotes and CRLF", () => {
    const csv = 'userId,scoreGiven,comment\r\nu1,8,"good, very ""good"""\r\nu2,,\r\n';
    expect(parseCsv(csv)).toEqual([
      { userId: "u1", scoreGiven: "8", comment: 'good, very "good"' },
      { userId: "u2", scoreGiven: "", comment: "" },
    ]);
  });
});
