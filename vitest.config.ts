import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = fileURLToPath(new URL("./src", import.meta.url));

/**
 * One config, several projects. Each project is a suite the test command runs
 * and counts separately:
 *  - unit:        pure logic, no services
 *  - native:      the shared-memory module, real processes mapping real files
 *  - integration: services against a real PostgreSQL (and Redis) started by the
 *                 global setup on private ports
 */
export default defineConfig({
  resolve: { alias: { "~": src } },
  test: {
    projects: [
      {
        resolve: { alias: { "~": src } },
        test: { name: "unit", include: ["tests/unit/**/*.test.ts"], environment: "node" },
      },
      {
        resolve: { alias: { "~": src } },
        test: {
          name: "native",
          include: ["tests/native/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        resolve: { alias: { "~": src } },
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          environment: "node",
          globalSetup: ["tests/integration/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        resolve: { alias: { "~": src } },
        test: {
          // worker daemon + client library: real worker processes, real PostgreSQL, real mappings
          name: "worker",
          include: ["tests/worker/**/*.test.ts"],
          environment: "node",
          // Same real PostgreSQL/Redis setup as the integration suite.
          globalSetup: ["tests/integration/global-setup.ts"],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        resolve: { alias: { "~": src } },
        test: {
          name: "routing",
          include: ["tests/routing/**/*.test.ts"],
          environment: "node",
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
