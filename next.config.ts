import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // PGlite ships WASM and a data-dir loader that break when bundled: without this the build
  // passes and every query fails at run time.
  serverExternalPackages: ["@electric-sql/pglite"],
  poweredByHeader: false,
  reactStrictMode: true,
  // unauthorized() / forbidden() render 401 and 403 pages from server components.
  experimental: { authInterrupts: true },
};

export default nextConfig;
