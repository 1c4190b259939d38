/**
 * One structured log line per event (JSON on stdout/stderr). Callers pass ids and outcomes, never
 * secrets; values under keys that look secret are redacted as a last line of defence.
 */
type Fields = Record<string, unknown>;

const SECRET_KEY = /key|secret|token|ltik|authorization|password|sealed/i;

// Nested too: a secret inside { headers: { authorization } } is as secret as one at the top.
function redact(value: unknown, depth = 0): unknown {
  if (depth > 5 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Fields = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && typeof v === "string" ? "[redacted]" : redact(v, depth + 1);
  }
  return out;
}

function write(level: "info" | "warn" | "error", event: string, fields: Fields = {}) {
  if (process.env.GRADESYNC_LOG === "silent") return;
  const line = JSON.stringify({ at: new Date().toISOString(), level, event, ...(redact(fields) as Fields) });
  if (level === "info") process.stdout.write(`${line}\n`);
  else process.stderr.write(`${line}\n`);
}

export const log = {
  info: (event: string, fields?: Fields) => write("info", event, fields),
  warn: (event: string, fields?: Fields) => write("warn", event, fields),
  error: (event: string, fields?: Fields) => write("error", event, fields),
};

/** An error's safe summary for a log line: its name and code, never its message from a remote. */
export function errorFields(error: unknown): Fields {
  if (error instanceof Error) return { error: error.name, code: (error as { code?: unknown }).code };
  return { error: typeof error };
}
