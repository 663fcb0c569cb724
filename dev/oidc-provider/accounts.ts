/**
 * The local provider's user directory. No database: two fixed rules.
 *
 * - The demo user, always: `demo@commy.local` / `demo` ("Demo User").
 * - In test mode (`--test-users`) only: any address ending in `@e2e.test` with password `e2e`,
 *   named after its local part (`jane.doe-42@e2e.test` → "Jane Doe 42"), so every end-to-end
 *   test can sign in as a user nobody else uses.
 *
 * The subject (`sub`) is the lower-cased email: stable across provider restarts, which lets the
 * seed link the demo user's next-auth Account row before the first sign-in.
 */
export const DEMO_USER = { email: "demo@commy.local", password: "demo", name: "Demo User" } as const;
export const E2E_DOMAIN = "e2e.test";
export const E2E_PASSWORD = "e2e";

export interface LocalAccount {
  sub: string;
  email: string;
  name: string;
}

/** "jane.doe-42" → "Jane Doe 42". Exported so tests can predict the name they will see. */
export function nameFromEmail(email: string): string {
  const local = email.split("@")[0] ?? email;
  return local
    .split(/[._+-]+/)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(" ");
}

/** The account for this email, or undefined when it is not one of ours. */
export function findLocalAccount(rawEmail: string, opts: { testUsers: boolean }): LocalAccount | undefined {
  const email = rawEmail.trim().toLowerCase();
  if (email === DEMO_USER.email) return { sub: email, email, name: DEMO_USER.name };
  if (opts.testUsers && email.endsWith(`@${E2E_DOMAIN}`) && email.length > E2E_DOMAIN.length + 1) {
    return { sub: email, email, name: nameFromEmail(email) };
  }
  return undefined;
}

/** Checks an email/password pair; returns the account on success. */
export function authenticate(email: string, password: string, opts: { testUsers: boolean }): LocalAccount | undefined {
  const account = findLocalAccount(email, opts);
  if (!account) return undefined;
  const expected = account.email === DEMO_USER.email ? DEMO_USER.password : E2E_PASSWORD;
  return password === expected ? account : undefined;
}
