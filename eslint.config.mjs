import next from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

// The layers of lib/ (see docs/architecture.md): an import only points down.
const BASE = ["ltiaas", "db", "crypto", "session", "lti", "env.ts", "log.ts", "html.ts", "keyed-lock.ts"];
const DOMAINS = ["grades", "roster", "launch", "links", "alerts", "status", "views", "contexts", "service-keys.ts"];
const JOBS = ["jobs", "inngest"];
const lib = (names) => names.map((n) => `./lib/${n}`);
const layers = [
  { target: "./lib", from: "./app", message: "lib/ never imports app/: pages and routes call lib, not the other way round." },
  { target: "./lib", from: "./scripts", message: "lib/ never imports scripts/." },
  {
    target: lib(DOMAINS),
    from: lib(JOBS),
    message: "A domain never imports lib/jobs or lib/inngest: it returns what changed, and its caller asks the dispatcher (lib/jobs/dispatch).",
  },
  {
    target: lib(BASE),
    from: lib([...DOMAINS, ...JOBS]),
    message: "The base layer (ltiaas, db, crypto, session, lti, env, log) never imports a domain or the jobs layer.",
  },
  {
    target: lib([...BASE, ...DOMAINS, ...JOBS]),
    from: "./lib/emulator",
    message: "Product code never imports the emulator: it stands apart (served by its own route and server).",
  },
];

const config = [
  ...next,
  ...nextTs,
  { ignores: [".next/**", ".data/**", "node_modules/**", "next-env.d.ts", "test-results/**"] },
  {
    // lib/ runs under tsx for the CLI: it must not reach into Next.
    files: ["lib/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["next", "next/*", "@/app/*"], message: "lib/ never imports next/* or app/." }] }],
      "import/no-restricted-paths": ["error", { zones: layers }],
      "import/no-cycle": ["error", { ignoreExternal: true }],
    },
    // Cycles are looked for among our own modules only (parsing node_modules would be slow and pointless).
    settings: { "import/ignore": ["node_modules"] },
  },
  {
    // useTestDb()/useEmulator() are vitest fixtures, not React hooks.
    files: ["test/**/*.ts"],
    rules: { "react-hooks/rules-of-hooks": "off" },
  },
];

export default config;
