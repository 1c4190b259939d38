/** The emulator on a plain Node http server (tests, bench, a standalone LTIAAS for development). */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createEmulator } from "./index";
import type { Emulator, EmulatorOptions } from "./types";

export interface EmulatorServer {
  /** e.g. http://127.0.0.1:54321 (+ basePath) */
  url: string;
  emulator: Emulator;
  close(): Promise<void>;
}

async function toRequest(req: IncomingMessage, origin: string, signal: AbortSignal): Promise<Request> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? "GET";
  let body: Uint8Array<ArrayBuffer> | undefined;
  if (method !== "GET" && method !== "HEAD") {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    body = Uint8Array.from(Buffer.concat(chunks));
  }
  return new Request(new URL(req.url ?? "/", origin), { method, headers, body, signal });
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers["set-cookie"] = cookies;
  res.writeHead(response.status, headers);
  res.end(response.body ? Buffer.from(await response.arrayBuffer()) : undefined);
}

export async function startEmulatorServer(
  opts: EmulatorOptions & { port?: number; host?: string },
): Promise<EmulatorServer> {
  const host = opts.host ?? "127.0.0.1";
  const emulator = createEmulator(opts);
  const server = createServer((req, res) => {
    const aborted = new AbortController();
    // A client that gives up (a timeout) aborts the request, so a hanging answer changes nothing.
    res.on("close", () => {
      if (!res.writableFinished) aborted.abort();
    });
    const origin = `http://${req.headers.host ?? `${host}:${(server.address() as AddressInfo).port}`}`;
    toRequest(req, origin, aborted.signal)
      .then((request) => emulator.handle(request))
      .then((response) => (res.destroyed ? undefined : send(res, response)))
      .catch((error: unknown) => {
        if (res.headersSent || res.destroyed) return void res.destroy();
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end(`emulator error: ${error instanceof Error ? error.message : String(error)}`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostInUrl = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${hostInUrl}:${port}${(opts.basePath ?? "").replace(/\/+$/, "")}`,
    emulator,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets (fetch pools them) would hold close() open.
        server.closeAllConnections();
      }),
  };
}
