import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { exitCodeFor, parseCliArgs, parseCsv, readScoresFile, UsageError } from "@/lib/jobs/cli";

describe("job CLI arguments", () => {
  it("parses a command and its flags", () => {
    expect(parseCliArgs(["backfill", "--context", "x", "--since", "2026-11-01T00:00:00Z", "--dry-run", "--json"])).toEqual({
      command: "backfill",
      context: "x",
      since: "2026-11-01T00:00:00Z",
      file: undefined,
      dryRun: true,
      overwrite: false,
      json: true,
    });
  });

  it("refuses an unknown command, an unknown flag, a bad --since", () => {
    expect(() => parseCliArgs([])).toThrow(UsageError);
    expect(() => parseCliArgs(["push-everything"])).toThrow(UsageError);
    expect(() => parseCliArgs(["push-grades", "--force"])).toThrow(UsageError);
    expect(() => parseCliArgs(["push-grades", "--since", "yesterday"])).toThrow(/ISO/);
  });

  it("maps outcomes to exit codes: completed and partial (it ran) 0, failed 1", () => {
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

  it("reads CSV and JSON files saved with a byte order mark (Excel's \"CSV UTF-8\")", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "gs-cli-"));
    try {
      const csv = path.join(dir, "scores.csv");
      writeFileSync(csv, "\uFEFFplatformId,userId,scoreGiven\r\np1,u1,8\r\n");
      expect(readScoresFile(csv)).toEqual([{ platformId: "p1", userId: "u1", scoreGiven: 8 }]);
      const json = path.join(dir, "scores.json");
      writeFileSync(json, '\uFEFF[{"platformId":"p1","userId":"u1"}]');
      expect(readScoresFile(json)).toEqual([{ platformId: "p1", userId: "u1" }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
