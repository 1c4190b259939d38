import { afterEach, describe, expect, it, vi } from "vitest";
import { describeError, errorFields, log } from "@/lib/log";

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

describe("what an error is called in logs and runs", () => {
  // drizzle wraps the driver's error (its name left "Error") and keeps Postgres's as the cause.
  const refused = () => Object.assign(new Error("Failed query: SELECT $1::jsonb\nparams: {\"name\":\"secret \\ud800\"}"), {
    cause: Object.assign(new Error('invalid input syntax for type json: "secret"'), { code: "22P02" }),
  });

  it("names a database refusal by its SQLSTATE and condition, never by a message that quotes the data", () => {
    expect(errorFields(refused())).toEqual({ error: "Error", code: "22P02", condition: "invalid_text_representation" });
    expect(describeError(refused())).toBe("the database refused a statement (SQLSTATE 22P02: invalid_text_representation)");
    expect(describeError(Object.assign(new Error("x"), { code: "54001" }))).toContain("SQLSTATE 54001: program_limit_exceeded");
    expect(describeError(refused())).not.toContain("secret");
  });

  it("names any other error by its name (and a code-like code)", () => {
    expect(describeError(new TypeError("a.get is not a function"))).toBe("TypeError");
    expect(describeError(Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:5432"), { code: "ECONNREFUSED" }))).toBe("Error (ECONNREFUSED)");
    expect(describeError("a string")).toBe("string");
  });
});
