import { serve } from "inngest/next";
import { inngest } from "@/lib/inngest/client";
import { functions } from "@/lib/inngest/functions";
import { dispatcher } from "@/lib/jobs/dispatch";

export const dynamic = "force-dynamic";

const handler = serve({ client: inngest, functions });

type Handler = (req: Request, ctx: unknown) => Promise<Response>;

/**
 * Served only when jobs run in Inngest: inline, nobody has any business here, and an anonymous
 * request must not reach the SDK (which answers 500 without a signing key). The configuration is
 * read per request, not at import: `next build` imports this module without one.
 */
function onlyWithInngest(serveMethod: unknown): Handler {
  return async (req, ctx) => {
    if (dispatcher().mode !== "inngest")
      return Response.json({ error: "not_found" }, { status: 404, headers: { "cache-control": "no-store" } });
    return (serveMethod as Handler)(req, ctx);
  };
}

export const GET = onlyWithInngest(handler.GET);
export const POST = onlyWithInngest(handler.POST);
export const PUT = onlyWithInngest(handler.PUT);
