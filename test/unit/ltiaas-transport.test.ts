/**
 * The client's default transport (undici, a keep-alive pool per origin) against real local HTTP
 * servers: sockets reused and bounded, bodies read to the end, the deadline, redirects, secrets.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { createLtiaasClient, createUndiciTransport, LtiaasError, type AnswerMeta, type LtiaasAuth, type LtiaasClient, type LtiaasTransport } from "@/lib/ltiaas";

const API_KEY = "api-key-SECRET-0123456789";
const SERVICE_KEY = "svc-SECRET-qrstuvwxyz012345";
const LTIK = "ltik-SECRET-abcdefghijklmnop";
const AUTH: LtiaasAuth = { serviceKey: SERVICE_KEY };
const score = { userId: "u1", activityProgress: "Completed", gradingProgress: "FullyGraded", scoreGiven: 8, scoreMaximum: 10 } as const;

interface Stub {
  url: string;
  server: Server;
  /** Sockets the server accepted. */
  connections: number;
  requests: number;
  inFlight: number;
  maxInFlight: number;
}

const open: { server: Server; transports: LtiaasTransport[] }[] = [];

afterEach(async () => {
  for (const { server, transports } of open.splice(0)) {
    await Promise.all(transports.map((t) => t.close?.()));
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

async function stub(handler: (req: IncomingMessage, res: ServerResponse, s: Stub) => unknown): Promise<Stub> {
  const server = createServer();
  const s: Stub = { url: "", server, connections: 0, requests: 0, inFlight: 0, maxInFlight: 0 };
  server.on("connection", () => s.connections++);
  server.on("request", (req, res) => {
    s.requests++;
    s.inFlight++;
    s.maxInFlight = Math.max(s.maxInFlight, s.inFlight);
    res.on("close", () => s.inFlight--);
    // The request body is read before answering, as a real server does.
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => void handler(req, res, s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  open.push({ server, transports: [] });
  return s;
}

/** A client over its own default transport, closed after the test. */
function clientFor(s: Stub, opts: { timeoutMs?: number; connections?: number } = {}): LtiaasClient {
  const transport = createUndiciTransport({ connections: opts.connections });
  open.find((o) => o.server === s.server)!.transports.push(transport);
  return createLtiaasClient({ baseUrl: s.url, apiKey: API_KEY, timeoutMs: opts.timeoutMs, transport });
}

async function failure(p: Promise<unknown>): Promise<LtiaasError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(LtiaasError);
    return err as LtiaasError;
  }
  throw new Error("expected the call to fail");
}

function assertClean(err: LtiaasError) {
  const renderings = [
    err.message,
    String(err),
    err.stack ?? "",
    JSON.stringify(err),
    JSON.stringify({ err }),
    inspect(err, { depth: 10, showHidden: true }),
    inspect({ wrapped: err }, { depth: 10 }),
  ];
  for (const s of renderings) for (const secret of [API_KEY, SERVICE_KEY, LTIK]) expect(s).not.toContain(secret);
  expect(err.cause).toBeUndefined();
}

const big = JSON.stringify({ errors: [{ message: "x".repeat(300_000) }] });

/** Answers by the path: /api/lineitems → a page; …/ok/scores → 204; …/e<status>/scores → that status with a large body. */
function byPath(req: IncomingMessage, res: ServerResponse) {
  const m = /\/api\/lineitems\/e(\d{3})\/scores/.exec(req.url ?? "");
  if (m) {
    const status = Number(m[1]);
    res.writeHead(status, { "content-type": "application/json", ...(status === 302 ? { location: "http://127.0.0.1:9/" } : {}) });
    res.end(big);
  } else if (req.method === "POST") res.writeHead(204).end();
  else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ lineItems: [] }));
}

describe("connections", () => {
  it("sends many sequential requests over one socket, error answers with large bodies included", async () => {
    const sockets: unknown[] = [];
    const s = await stub((req, res) => {
      sockets.push(req.socket);
      byPath(req, res);
    });
    const c = clientFor(s);
    // undici marks a connection free a tick after its answer is read, so a caller that sends the
    // next request at once gets the pool's second socket: two warm sockets take turns.
    await c.listLineItemsPage(AUTH);
    await c.listLineItemsPage(AUTH);
    const warm = s.connections;
    expect(warm).toBeLessThanOrEqual(2);
    const kinds: string[] = [];
    for (let i = 0; i < 10; i++) {
      await c.listLineItemsPage(AUTH);
      await c.postScore(AUTH, "ok", score);
      for (const status of [422, 404, 500, 429, 302]) kinds.push((await failure(c.postScore(AUTH, `e${status}`, score))).kind);
    }
    expect(new Set(kinds)).toEqual(new Set(["not_gradable", "not_found", "retry_later", "bad_response"]));
    expect(s.requests).toBe(72);
    // A body left unread pins its socket: every error answer would then cost a new connection.
    expect(s.connections).toBe(warm);
    expect(new Set(sockets).size).toBe(warm);
  });

  it("sends every request over one socket when the pool has one", async () => {
    const sockets = new Set<unknown>();
    const s = await stub((req, res) => {
      sockets.add(req.socket);
      byPath(req, res);
    });
    const c = clientFor(s, { connections: 1 });
    for (let i = 0; i < 10; i++) {
      await c.postScore(AUTH, "ok", score);
      await failure(c.postScore(AUTH, "e422", score));
      await failure(c.postScore(AUTH, "e500", score));
    }
    // Concurrent calls queue for the one socket rather than opening another.
    await Promise.all(Array.from({ length: 10 }, () => c.listLineItemsPage(AUTH)));
    expect(s.requests).toBe(40);
    expect(s.connections).toBe(1);
    expect(sockets.size).toBe(1);
  });

  it("by default has as many requests in flight to the one LTIAAS origin as a push over a hundred platforms (200)", async () => {
    const waiting: ServerResponse[] = [];
    const answerAll = () => waiting.splice(0).forEach((r) => r.writeHead(204).end());
    // Each request is held until 200 are in flight at once (or a second passed: then fewer could be).
    const s = await stub((_req, res) => {
      waiting.push(res);
      if (waiting.length === 200) answerAll();
      else if (waiting.length === 1) setTimeout(answerAll, 1_000);
    });
    const c = clientFor(s);
    await Promise.all(Array.from({ length: 200 }, () => c.postScore(AUTH, "ok", score)));
    expect(s.maxInFlight).toBe(200);
  });

  it("never opens more connections than asked, and uses them all under load", async () => {
    const s = await stub((_req, res) => void setTimeout(() => res.writeHead(204).end(), 20));
    const c = clientFor(s, { connections: 3 });
    await Promise.all(Array.from({ length: 24 }, () => c.postScore(AUTH, "ok", score)));
    expect(s.requests).toBe(24);
    expect(s.maxInFlight).toBe(3);
    expect(s.connections).toBe(3);
  });

  it("bounds connections at 256 by default", async () => {
    const s = await stub((_req, res) => void setTimeout(() => res.writeHead(204).end(), 100));
    const c = clientFor(s);
    await Promise.all(Array.from({ length: 300 }, () => c.postScore(AUTH, "ok", score)));
    expect(s.connections).toBe(256);
    expect(s.maxInFlight).toBe(256);
  });

  it("refuses a pool without connections", () => {
    expect(() => createUndiciTransport({ connections: 0 })).toThrow(RangeError);
  });
});

describe("the deadline", () => {
  it("gives up on a server that never answers, and says nothing secret", async () => {
    const s = await stub(() => {
      /* never answers */
    });
    const c = clientFor(s, { timeoutMs: 60 });
    const seen: AnswerMeta[] = [];
    const err = await failure(c.postScore(AUTH, "ok", score, { onAnswer: (a) => seen.push(a) }));
    expect(err).toMatchObject({ kind: "retry_later", status: undefined, reason: "timed out after 60 ms" });
    assertClean(err);
    expect(seen).toEqual([{ status: null, latencyMs: expect.any(Number) }]);
    expect(seen[0].latencyMs).toBeGreaterThanOrEqual(55);
  });

  it("counts the body: headers in time and a body that stalls still time out", async () => {
    const s = await stub((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"lineItems":['); // …and nothing more
    });
    const c = clientFor(s, { timeoutMs: 80 });
    const t0 = performance.now();
    const err = await failure(c.listLineItemsPage(AUTH));
    expect(err).toMatchObject({ kind: "retry_later", reason: "timed out after 80 ms" });
    expect(performance.now() - t0).toBeLessThan(2_000);
  });

  it("keeps working after a timeout", async () => {
    let hang = true;
    const s = await stub((_req, res) => {
      if (!hang) res.writeHead(204).end();
    });
    const c = clientFor(s, { timeoutMs: 50 });
    expect((await failure(c.postScore(AUTH, "ok", score))).kind).toBe("retry_later");
    hang = false;
    await expect(c.postScore(AUTH, "ok", score)).resolves.toBeUndefined();
  });
});

describe("redirects", () => {
  it.each([301, 302, 307, 308])("does not follow a %i (it would carry the Authorization header elsewhere)", async (status) => {
    const elsewhere = await stub((_req, res) => res.writeHead(204).end());
    const s = await stub((_req, res) => res.writeHead(status, { location: `${elsewhere.url}/api/lineitems/x/scores` }).end());
    const c = clientFor(s);
    const err = await failure(c.postScore(AUTH, "ok", score));
    expect(err).toMatchObject({ kind: "bad_response", status });
    expect((await failure(c.listLineItemsPage(AUTH))).status).toBe(status);
    expect(elsewhere.requests).toBe(0);
  });
});

describe("transport failures", () => {
  it("maps a reset connection to retry later, and says nothing secret", async () => {
    const s = await stub((req) => req.socket.destroy());
    const c = clientFor(s);
    const seen: AnswerMeta[] = [];
    const err = await failure(c.getIdToken(LTIK, { onAnswer: (a) => seen.push(a) }));
    expect(err.kind).toBe("retry_later");
    expect(err.reason).toMatch(/^connection failed/);
    // Connected first: the request may have reached LTIAAS.
    expect(err.unreachable).toBe(false);
    assertClean(err);
    expect(seen.map((a) => a.status)).toEqual([null]);
  });

  it("maps a refused connection to retry later", async () => {
    const s = await stub(() => undefined);
    const c = clientFor(s);
    open.splice(open.findIndex((o) => o.server === s.server), 1);
    s.server.closeAllConnections();
    await new Promise((r) => s.server.close(r));
    const err = await failure(c.postScore(AUTH, "ok", score));
    expect(err).toMatchObject({ kind: "retry_later", reason: "connection failed (ECONNREFUSED)", unreachable: true });
    assertClean(err);
  });
});

describe("what is sent", () => {
  it("sends the headers, the base path and the body as JSON", async () => {
    const seen: { method?: string; url?: string; headers: IncomingMessage["headers"]; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const transport = createUndiciTransport();
    open.push({ server, transports: [transport] });
    const c = createLtiaasClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/emulator/`, apiKey: API_KEY, transport });
    await c.postScore(AUTH, "https://lms/li/1", score);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: "POST", url: `/emulator/api/lineitems/${encodeURIComponent("https://lms/li/1")}/scores` });
    expect(seen[0].headers).toMatchObject({ authorization: `SERVICE-AUTH-V1 ${API_KEY}:${SERVICE_KEY}`, accept: "application/json", "content-type": "application/json" });
    expect(JSON.parse(seen[0].body)).toEqual(score);
  });
});
