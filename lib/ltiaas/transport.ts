/**
 * How the client's requests travel. The default is undici's `request` over a keep-alive pool per
 * LTIAAS origin: measured against one local sink at 20 in flight it sends about three times the
 * POSTs per second of the global `fetch` (`npm run bench http`). A transport only moves bytes: it
 * never follows a redirect, always reads an answer's body to its end (so the socket goes back to the
 * pool, error answers and 204s included) and gives up after `timeoutMs`, body included. What an
 * answer means is decided by the client (see classify.ts).
 */
import { Pool } from "undici";

export interface TransportRequest {
  /** `http(s)://host[:port]`, no trailing slash. */
  origin: string;
  /** Path and query, starting with `/`. */
  path: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  /** The whole exchange, body included. */
  timeoutMs: number;
}

export interface TransportAnswer {
  status: number;
  /** A response header by its lower-case name. */
  header(name: string): string | undefined;
  /** The whole body ("" when there is none). */
  text: string;
}

/**
 * Rejects with an error whose `name` is "TimeoutError" when `timeoutMs` passed, otherwise with the
 * underlying error (its `code`, or its `cause.code`, names what went wrong).
 */
export interface LtiaasTransport {
  send(req: TransportRequest): Promise<TransportAnswer>;
  /** Lets open connections go once requests in flight are done. */
  close?(): Promise<void>;
}

export interface UndiciTransportOptions {
  /** Connections per origin at most. Default DEFAULT_CONNECTIONS. */
  connections?: number;
  /** How long an idle connection is kept (the server's Keep-Alive hint wins when shorter). Default 10 s. */
  keepAliveTimeoutMs?: number;
}

/**
 * Every platform's requests go to the one LTIAAS origin, so this bounds requests in flight across all
 * of them: 100 platforms × a window of 2 need 200 (at 32, a push over many platforms waited on the
 * pool, not on the LMSs). Connections open only when that many requests are in flight at once.
 */
export const DEFAULT_CONNECTIONS = 256;

function timeoutError(ms: number): Error {
  const err = new Error(`timed out after ${ms} ms`);
  err.name = "TimeoutError";
  return err;
}

export function createUndiciTransport(opts: UndiciTransportOptions = {}): LtiaasTransport {
  const connections = opts.connections ?? DEFAULT_CONNECTIONS;
  if (!Number.isInteger(connections) || connections < 1) throw new RangeError("connections must be a whole number of at least 1");
  const keepAliveTimeout = opts.keepAliveTimeoutMs ?? 10_000;
  const pools = new Map<string, Pool>();
  const poolFor = (origin: string): Pool => {
    let pool = pools.get(origin);
    if (!pool) pools.set(origin, (pool = new Pool(origin, { connections, keepAliveTimeout, pipelining: 1 })));
    return pool;
  };

  return {
    async send(req) {
      const pool = poolFor(req.origin);
      // One deadline for the whole exchange: undici's own timeouts measure silences, not the total.
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), req.timeoutMs);
      try {
        const res = await pool.request({ path: req.path, method: req.method, headers: req.headers, body: req.body ?? null, signal: abort.signal });
        const text = await res.body.text();
        const headers = res.headers;
        return {
          status: res.statusCode,
          header(name) {
            const v = headers[name];
            return Array.isArray(v) ? v.join(", ") : v;
          },
          text,
        };
      } catch (err) {
        if (abort.signal.aborted) throw timeoutError(req.timeoutMs);
        throw err;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((p) => p.close()));
    },
  };
}

/** A transport over a `fetch` function (a test's stub, or the global one). */
export function fetchTransport(doFetch: typeof fetch): LtiaasTransport {
  return {
    async send(req) {
      const res = await doFetch(`${req.origin}${req.path}`, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        redirect: "manual",
        signal: AbortSignal.timeout(req.timeoutMs),
      });
      // Read to its end, so the connection goes back to the pool.
      const text = await res.text();
      return { status: res.status, header: (name) => res.headers.get(name) ?? undefined, text };
    },
  };
}
