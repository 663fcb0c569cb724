/**
 * Playwright fixtures for Commy's end-to-end tests. Import `test` and `expect` from here, not
 * from @playwright/test:
 *
 *   import { test, expect, uniqueEmail, nameFromEmail, DEMO_USER } from "./fixtures";
 *
 *   test("members can be invited", async ({ page, signIn, openPage }) => {
 *     const owner = await signIn(page, uniqueEmail("owner"));   // a brand-new user
 *     ...
 *     const other = await openPage();                           // a second browser (own cookies)
 *     await signIn(other, uniqueEmail("invitee"));
 *   });
 *
 * Fixtures
 * - `signIn(page, email?, opts?)` → `{ email, name }`. Signs in through the real flow: the app's
 *   sign-in page (`/signin`) → "Sign in with Commy Local" → the provider's login form (email,
 *   password) → back to the app. Resolves once the browser is back on the app (by default at
 *   `opts.callbackUrl ?? "/"`, with whatever redirects the app does from there).
 *   `email` defaults to a fresh unique `…@e2e.test` user (password `e2e`, name derived from
 *   the local part: `nameFromEmail`). `DEMO_USER.email` signs in as the seeded demo user
 *   (only if the test seeded it; the e2e database starts empty).
 * - `signOut(page)`: signs out through the app's account menu ("Account: <name>" → "Sign out")
 *   and waits for the sign-in page.
 * - `openPage()` → a page in a NEW browser context (separate cookies = a separate user), with
 *   the app's baseURL; closed automatically at the end of the test.
 * - `e2e` → `{ baseURL, oidcIssuer, databaseUrl, redisUrl }` of this run's services, e.g. to
 *   call REST with `request.newContext({ baseURL: e2e.baseURL, extraHTTPHeaders: {...} })`.
 *
 * Helpers (plain functions): `uniqueEmail(prefix)`, `nameFromEmail(email)`, `E2E_PASSWORD`,
 * `DEMO_USER`, `createTenantInUi(page, name)` (signed-in page → the new tenant's URL name).
 *
 * Every test runs against ONE shared app and database: create your own users and tenants with
 * unique names (uniqueEmail, `uniqueName` from tests/helpers/unique.ts) and never rely on an
 * empty database or on another test's data.
 */
import { test as base, expect, type Page } from "@playwright/test";
import { DEMO_USER, E2E_PASSWORD, nameFromEmail } from "../../dev/oidc-provider/accounts";
import { uniqueEmail, uniqueName } from "../helpers/unique";

export { expect, DEMO_USER, E2E_PASSWORD, nameFromEmail, uniqueEmail, uniqueName };

export interface SignedInUser {
  email: string;
  name: string;
}

export interface SignInOptions {
  /** Password at the provider (default: `demo` for the demo user, `e2e` otherwise). */
  password?: string;
  /** Where the app should land after sign-in (same-origin path, default "/"). */
  callbackUrl?: string;
}

export interface E2EEnv {
  baseURL: string;
  oidcIssuer: string;
  databaseUrl: string;
  redisUrl: string;
}

interface Fixtures {
  signIn: (page: Page, email?: string, opts?: SignInOptions) => Promise<SignedInUser>;
  signOut: (page: Page) => Promise<void>;
  openPage: () => Promise<Page>;
  e2e: E2EEnv;
}

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the e2e tests through Playwright's global setup (scripts/test e2e)`);
  return v;
}

const providerButtonName = () => new RegExp(`^Sign in with ${escapeRegExp(process.env.OIDC_NAME ?? "Commy Local")}$`);

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The whole OIDC round trip; exported for specs that drive a page they created themselves. */
export async function signInThroughProvider(page: Page, email: string, opts: SignInOptions = {}): Promise<SignedInUser> {
  const baseURL = requireEnv("E2E_BASE_URL");
  const issuer = new URL(requireEnv("E2E_OIDC_ISSUER")).origin;
  const appOrigin = new URL(baseURL).origin;
  const password = opts.password ?? (email.toLowerCase() === DEMO_USER.email ? DEMO_USER.password : E2E_PASSWORD);
  const callbackUrl = opts.callbackUrl ?? "/";

  await page.goto(new URL(`/signin?callbackUrl=${encodeURIComponent(callbackUrl)}`, baseURL).href);
  await page.getByRole("button", { name: providerButtonName() }).click();

  // The provider's login form (dev/oidc-provider): labelled fields, one submit button.
  await page.waitForURL((u) => u.origin === issuer);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();

  // Back through /api/auth/callback/oidc to the app.
  await page.waitForURL((u) => u.origin === appOrigin && !u.pathname.startsWith("/api/auth/"));
  return { email: email.toLowerCase(), name: email.toLowerCase() === DEMO_USER.email ? DEMO_USER.name : nameFromEmail(email) };
}

export const test = base.extend<Fixtures>({
  baseURL: async ({}, use) => {
    await use(requireEnv("E2E_BASE_URL"));
  },

  e2e: async ({}, use) => {
    await use({
      baseURL: requireEnv("E2E_BASE_URL"),
      oidcIssuer: requireEnv("E2E_OIDC_ISSUER"),
      databaseUrl: requireEnv("DATABASE_URL"),
      redisUrl: requireEnv("REDIS_URL"),
    });
  },

  signIn: async ({}, use) => {
    await use((page, email, opts) => signInThroughProvider(page, email ?? uniqueEmail("user"), opts));
  },

  signOut: async ({}, use) => {
    await use(async (page) => {
      const signOutButton = page.getByRole("button", { name: "Sign out" });
      // The menu can close again when the page re-renders (client-side redirects after load):
      // open it until its "Sign out" item is there.
      await expect(async () => {
        if (!(await signOutButton.isVisible())) await page.getByRole("button", { name: /^Account: / }).click();
        await expect(signOutButton).toBeVisible({ timeout: 2_000 });
      }).toPass();
      await signOutButton.click();
      await page.waitForURL((u) => u.pathname === "/signin");
    });
  },

  openPage: async ({ browser }, use) => {
    const contexts: Awaited<ReturnType<typeof browser.newContext>>[] = [];
    await use(async () => {
      const context = await browser.newContext({ baseURL: requireEnv("E2E_BASE_URL") });
      contexts.push(context);
      return context.newPage();
    });
    for (const c of contexts) await c.close();
  },
});

/** Creates a tenant through the UI as the signed-in user and returns its URL name (slug). */
export async function createTenantInUi(page: Page, name: string): Promise<string> {
  await page.goto("/tenants/new");
  await page.getByLabel("Tenant name").fill(name);
  await page.getByRole("button", { name: "Create tenant" }).click();
  await page.waitForURL(/\/t\/[^/]+$/);
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  return decodeURIComponent(new URL(page.url()).pathname.split("/")[2]!);
}
