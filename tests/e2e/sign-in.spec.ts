import { test, expect, uniqueEmail, nameFromEmail, E2E_PASSWORD } from "./fixtures";

test.describe("sign-in through the local OIDC provider", () => {
  test("a new user signs in, sees their name, and signs out", async ({ page, signIn, signOut }) => {
    const user = await signIn(page, uniqueEmail("ada.lovelace"));
    expect(user.name).toMatch(/^Ada Lovelace \w{12}$/);

    // A brand-new user has no tenant yet: the app leads them to create one.
    await expect(page).toHaveURL(/\/tenants\/new/);
    await expect(page.getByRole("heading", { name: "Create your first tenant" })).toBeVisible();

    const account = page.getByRole("button", { name: `Account: ${user.name}` });
    await expect(account).toBeVisible();
    await account.click();
    await expect(page.getByText(user.email, { exact: true })).toBeVisible();
    await account.click(); // close the menu again

    await signOut(page);
    await expect(page.getByRole("heading", { name: "Sign in to Commy" })).toBeVisible();

    // The session is gone: the app sends us back to sign in.
    await page.goto("/");
    await expect(page).toHaveURL(/\/signin/);
    await expect(page.getByRole("button", { name: `Account: ${user.name}` })).toHaveCount(0);
  });

  test("a wrong password is refused with a clear error, then the right one works", async ({ page, e2e }) => {
    const email = uniqueEmail("grace");
    await page.goto("/signin");
    await page.getByRole("button", { name: /^Sign in with / }).first().click();
    await page.waitForURL((u) => u.origin === new URL(e2e.oidcIssuer).origin);

    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();

    await expect(page.getByRole("alert")).toHaveText(/Wrong email or password/);
    await expect(page.getByLabel("Email")).toHaveValue(email);
    await expect(page.getByLabel("Password")).toHaveAttribute("aria-invalid", "true");

    await page.getByLabel("Password").fill(E2E_PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL((u) => u.origin === new URL(e2e.baseURL).origin);
    await expect(page.getByRole("button", { name: `Account: ${nameFromEmail(email)}` })).toBeVisible();
  });
});
