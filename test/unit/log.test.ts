import { afterEach, describe, expect, it, vi } from "vitest";
import { log } from "@/lib/log";

const before = process.env.GRADESYNC_LOG;
afterEach(() => {
  vi.restoreAllMocks();
  if (before === undefined) delete process.env.GRADESYNC_LOG;
  else process.env.GRADESYNC_LOG = before;
});

function captured(write: () => void): Record<string, unknown> {
  process.env.GRADESYNC_LOG = "on";
  const lines: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  write();
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]);
}

describe("log", () => {
  it("writes one JSON line with the event and its fields", () => {
    expect(captured(() => log.info("launch.ok", { role: "teacher", serviceKey: true }))).toMatchObject({ level: "info", event: "launch.ok", role: "teacher", serviceKey: true });
  });

  it("redacts string values under secret-looking keys, nested ones included", () => {
    const line = captured(() =>
      log.info("x", { ltik: "lt-1", request: { headers: { Authorization: "SERVICE-AUTH-V1 k:s" }, items: [{ serviceKey: "sk-2" }] }, count: 2 }),
    );
    const text = JSON.stringify(line);
    for (const secret of ["lt-1", "SERVICE-AUTH-V1", "sk-2"]) expect(text).not.toContain(secret);
    expect(line).toMatchObject({ ltik: "[redacted]", request: { headers: { Authorization: "[redacted]" }, items: [{ serviceKey: "[redacted]" }] }, count: 2 });
  });
});
