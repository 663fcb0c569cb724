/**
 * Next.js configuration.
 *
 * Importing `./src/env.js` validates the environment when Next loads this file, so a bad
 * environment fails `next build`, `next dev` and `next start` immediately with a list of the
 * offending variables. CI builds without secrets set `SKIP_ENV_VALIDATION=1`.
 */
import "./src/env.js";

process.env.NEXT_TELEMETRY_DISABLED ??= "1";

/** @type {import("next").NextConfig} */
const config = {
  reactStrictMode: true,
  // A separate output directory lets a check build run next to a running `next start`.
  distDir: process.env.NEXT_DIST_DIR || ".next",
  poweredByHeader: false,
  /**
   * Kept out of the server bundle and loaded from node_modules at runtime: Prisma's generated
   * client (Wasm query compiler files next to it), pg (optional native bindings), pino (worker
   * threads for transports), oidc-provider/jose (the local sign-in provider and its crypto).
   */
  typescript: { tsconfigPath: "tsconfig.next.json" },
  serverExternalPackages: [
    "@prisma/client",
    "@prisma/adapter-pg",
    ".prisma/client",
    "pg",
    "pino",
    "pino-pretty",
    "oidc-provider",
    "ioredis",
  ],
};

export default config;
