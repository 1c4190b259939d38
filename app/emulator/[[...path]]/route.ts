/**
 * The bundled LTIAAS + LMS emulator under /emulator, served only when the configuration asks for it
 * (development without LTIAAS_URL, or GRADESYNC_EMULATOR=1); everywhere else this path does not exist.
 */
import { getProcessEmulator } from "@/lib/emulator";
import { env } from "@/lib/env";

export const dynamic = "force-dynamic";

async function handle(request: Request): Promise<Response> {
  if (!env().emulator) return new Response("Not found", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
  return getProcessEmulator().handle(request);
}

export { handle as GET, handle as POST, handle as PUT, handle as DELETE };
