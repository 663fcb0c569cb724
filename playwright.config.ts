/**
 * End-to-end tests in a real Chromium (Debian's /usr/bin/chromium; Playwright never downloads a browser)
 * against the production build (`next build` + `next start`), a real PostgreSQL and Redis and
 * the local OIDC provider in test mode. tests/e2e/global-setup.ts starts all of it on private
 * 127.0.0.1 ports and stops it by PID afterwards.
 *
 * Write specs with the fixtures in tests/e2e/fixtures.ts (sign-in through the real OIDC flow,
 * unique users, a second browser context).
 */
import { defineConfig, devices } from "@playwright/test";

const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export default defineConfig({
  testDir: "tests/e2e",
  testMatch: "**/*.spec.ts",
  outputDir: ".tmp/playwright/artifacts",
  globalSetup: "./tests/e2e/global-setup.ts",
  // One app server for all workers; tests isolate themselves with unique users and tenants.
  fullyParallel: true,
  workers: process.env.E2E_WORKERS ? Number(process.env.E2E_WORKERS) : 2,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    // Set by the global setup (inherited by the workers); fixtures.ts applies it to every context.
    baseURL: process.env.E2E_BASE_URL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: chromiumArgs },
      },
    },
  ],
});
