/**
 * One structured log line per event (JSON on stdout/stderr). Callers pass ids and outcomes, never
 * secrets; values under keys that look secret are redacted as a last line of defence.
 */
type Fields = Record<string, unknown>;

const SECRET_KEY = /key|secret|token|ltik|authorization|password|sealed/i;

function redact(fields: Fields): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = SECRET_KEY.test(k) && typeof v === "string" ? "[redacted]" : v;
  }
  return out;
}

function write(level: "info" | "warn" | "error", event: string, fields: Fields = {}) {
  if (process.env.GRADESYNC_LOG === "silent") return;
  const line = JSON.stringify({ at: new Date().toISOString(), level, event, ...redact(fields) });
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
