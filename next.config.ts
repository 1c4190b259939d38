import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // PGlite ships WASM and a data-dir loader that break when bundled: without this the build
  // passes and every query fails at run time.
  serverExternalPackages: ["@electric-sql/pglite"],
  poweredByHeader: false,
  reactStrictMode: true,
  experimental: {
    // unauthorized() / forbidden() render 401 and 403 pages from server components.
    authInterrupts: true,
    // The embedded database writes under .data/ inside the project root, which `next dev` watches.
    // With Turbopack's filesystem cache, a restart's first compiles made while it wrote announced
    // changes nobody made: pages reloaded in a loop ("HMR hash mismatch") and a quiz submission was
    // lost. Measured with test/bench/dev-soak.ts on a fresh clone: 6 of 9 restarts reloaded with
    // the cache, 0 of 4 without it, 0 of 4 with the cache but the database outside the project.
    // The pages compile in the background after start instead (lib/dev-warm-up.ts).
    turbopackFileSystemCacheForDev: false,
  },
};

export default nextConfig;
