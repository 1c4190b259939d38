/**
 * Bearer ADMIN_TOKEN for /api/status (timing-safe). Without a token: development answers loopback
 * requests only, production nobody.
 */
import { env } from "../env";
import { isLoopbackRequest, tokenMatches } from "../session/admin-access";

export function statusAuthorized(req: Request): boolean {
  const { adminToken, production } = env();
  if (!adminToken) return !production && isLoopbackRequest(req.headers);
  const header = req.headers.get("authorization") ?? "";
  const m = /^Bearer (.+)$/.exec(header);
  return Boolean(m) && tokenMatches(m![1], adminToken);
}
