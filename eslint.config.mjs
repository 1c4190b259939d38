import next from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

const config = [
  ...next,
  ...nextTs,
  { ignores: [".next/**", ".data/**", "node_modules/**", "next-env.d.ts", "test-results/**"] },
  {
    // lib/ runs under tsx for the CLI: it must not reach into Next.
    files: ["lib/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [{ group: ["next", "next/*", "@/app/*"], message: "lib/ never imports next/* or app/." }] }] },
  },
  {
    // useTestDb()/useEmulator() are vitest fixtures, not React hooks.
    files: ["test/**/*.ts"],
    rules: { "react-hooks/rules-of-hooks": "off" },
  },
];

export default config;
