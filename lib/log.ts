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

// SQLSTATE conditions worth naming; other codes fall back to their class (the first two characters).
const SQL_CONDITIONS: Record<string, string> = {
  "22P02": "invalid_text_representation",
  "22021": "character_not_in_repertoire",
  "22001": "string_data_right_truncation",
  "22003": "numeric_value_out_of_range",
  "22007": "invalid_datetime_format",
  "22008": "datetime_field_overflow",
  "54000": "program_limit_exceeded",
  "23505": "unique_violation",
  "23503": "foreign_key_violation",
  "40001": "serialization_failure",
  "40P01": "deadlock_detected",
  "57014": "query_canceled",
  "53300": "too_many_connections",
};
const SQL_CLASSES: Record<string, string> = {
  "08": "connection_exception",
  "22": "data_exception",
  "23": "integrity_constraint_violation",
  "40": "transaction_rollback",
  "53": "insufficient_resources",
  "54": "program_limit_exceeded",
  "57": "operator_intervention",
};
const SQLSTATE = /^[0-9A-Z]{5}$/;

/** The Postgres SQLSTATE of a failed query (drizzle wraps the driver's error as its cause). */
function sqlState(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && typeof e === "object" && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && SQLSTATE.test(code)) return code;
  }
  return undefined;
}

/** An error's safe summary for a log line: its name and code, never its message from a remote. */
export function errorFields(error: unknown): Fields {
  // An Error, or what is left of one after serialising (Inngest hands onFailure {name, message, …}).
  const name = error instanceof Error ? error.name : (error as { name?: unknown } | null)?.name;
  if (typeof name !== "string" || !name) return { error: typeof error };
  const state = sqlState(error);
  if (state) return { error: name, code: state, condition: SQL_CONDITIONS[state] ?? SQL_CLASSES[state.slice(0, 2)] ?? "database_error" };
  return { error: name, code: (error as { code?: unknown }).code };
}

/**
 * One line naming what went wrong, safe to keep in a run's `error` and to show an operator: the
 * error's name, or for a database refusal its SQLSTATE and condition — never a message, which may
 * quote an LMS's answer or the data that was refused.
 */
export function describeError(error: unknown): string {
  const f = errorFields(error);
  if (f.condition) return `the database refused a statement (SQLSTATE ${String(f.code)}: ${String(f.condition)})`;
  const code = typeof f.code === "string" && /^[A-Za-z0-9_]{1,40}$/.test(f.code) ? ` (${f.code})` : "";
  return `${String(f.error)}${code}`;
}
