/**
 * A stateless stand-in for LTIAAS used by the sync bench's own-cost and memory figures and the HTTP
 * bench: every score post answers 204, a line item's results an empty page (nothing held: the
 * read-back lets every score through), every line item lookup an empty page. It runs in its own process so the bench's RSS is the
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
    const empty = /\/scores$/.test((req.url ?? "").split("?")[0]) ? { scores: [] } : { lineItems: [] };
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(empty));
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, "127.0.0.1", () => {
  const addr = server.address();
  if (addr && typeof addr === "object") process.stdout.write(`http://127.0.0.1:${addr.port}\n`);
});
