import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { argvWithoutFile, exitCodeFor, parseCliArgs, parseCsv, printResult, readScoresFile, UsageError, withFileRead } from "@/lib/jobs/cli";

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

describe("the command line through the app", () => {
  it("sends the arguments as typed without --file (its entries travel instead), in either spelling", () => {
    expect(argvWithoutFile(["backfill", "--file", "s.csv", "--dry-run", "--json"])).toEqual(["backfill", "--dry-run", "--json"]);
    expect(argvWithoutFile(["backfill", "--file=s.csv", "--dry-run"])).toEqual(["backfill", "--dry-run"]);
    expect(argvWithoutFile(["push-grades", "--context", "x"])).toEqual(["push-grades", "--context", "x"]);
  });

  it("reads --file on the command line's side; an unreadable file is a usage error, not a stack trace", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "gs-cli-unit-"));
    try {
      const file = path.join(dir, "s.json");
      writeFileSync(file, JSON.stringify([{ userId: "u1" }]));
      expect(withFileRead(parseCliArgs(["backfill", "--file", file])).scores).toEqual([{ userId: "u1" }]);
      expect(() => withFileRead(parseCliArgs(["backfill", "--file", path.join(dir, "missing.csv")]))).toThrow(/cannot read it \(ENOENT\)/);
      writeFileSync(file, "[{");
      expect(() => withFileRead(parseCliArgs(["backfill", "--file", file]))).toThrow(UsageError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("prints a run's summary as text (its note included) or as JSON, and an operator command's report", () => {
    const run = {
      runId: "r1", kind: "push-grades", outcome: "partial" as const, startedAt: "2026-01-01T00:00:00.000Z", finishedAt: "2026-01-01T00:00:01.000Z",
      counts: { sent: 0, skipped: 0, failed: 0, pending: 2, unreachable: 1 }, error: null, note: "LTIAAS unreachable at http://127.0.0.1:9: nothing sent, rows left pending",
    };
    expect(printResult({ command: "push-grades", json: false }, run)).toBe(
      [
        "push-grades partial (run r1)",
        "  sent 0, skipped 0, failed 0, pending 2",
        "  started 2026-01-01T00:00:00.000Z, finished 2026-01-01T00:00:01.000Z",
        "  LTIAAS unreachable at http://127.0.0.1:9: nothing sent, rows left pending",
      ].join("\n"),
    );
    expect(JSON.parse(printResult({ command: "push-grades", json: true }, run))).toEqual(run);
    expect(printResult({ command: "rotate-keys", json: false }, { resealed: 1, current: 2, unreadable: 0 })).toBe("rotate-keys: resealed 1, current 2, unreadable 0");
  });
});
