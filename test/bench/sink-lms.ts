/**
 * A stateless stand-in for LTIAAS used by the sync bench's memory figure: every score post answers
 * 204, every line item lookup an empty page. It runs in its own process so the bench's RSS is the
 * pipeline's alone. Prints its base URL on stdout.
 */
import { createServer } from "node:http";

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    if (req.method === "POST" && /\/scores$/.test((req.url ?? "").split("?")[0])) {
      res.writeHead(204).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ lineItems: [] }));
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, "127.0.0.1", () => {
  const addr = server.address();
  if (addr && typeof addr === "object") process.stdout.write(`http://127.0.0.1:${addr.port}\n`);
});
