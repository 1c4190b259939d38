/** A WebSocket-to-TCP proxy like Neon's, so @vercel/postgres can reach the local Postgres in tests. */
import net from "node:net";
import { WebSocketServer } from "ws";

export async function startWsProxy(): Promise<{ address: string; connections: () => number; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  let connections = 0;
  wss.on("connection", (socket, request) => {
    const target = new URL(request.url ?? "/", "http://x").searchParams.get("address") ?? "";
    const [host, port] = target.split(":");
    // Only the loopback Postgres: this proxy must never become a way out.
    if (!["127.0.0.1", "localhost"].includes(host)) return socket.close(1008, "loopback only");
    connections++;
    const tcp = net.connect(Number(port), host);
    tcp.on("data", (chunk) => socket.readyState === socket.OPEN && socket.send(chunk));
    tcp.on("close", () => socket.close());
    tcp.on("error", () => socket.close());
    socket.on("message", (data) => tcp.write(data as Buffer));
    socket.on("close", () => tcp.end());
  });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const { port } = wss.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}/v2`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}
