/**
 * The control plane as a team admin uses it, in a real Chromium against the production build:
 * sign in through the local OIDC provider, create a tenant, invite a member who accepts in a
 * separate browser, create an API key and call REST with it, declare a shared file, check that
 * a viewer cannot change anything, and read, verify and export the audit log.
 *
 * The tests run in order and share one tenant (each step builds on the previous one, the way a
 * real admin's afternoon does); every test signs in again in its own browser context.
 */
import { readFile } from "node:fs/promises";
import type { Page } from "@playwright/test";
import { createTenantInUi, expect, nameFromEmail, test, uniqueEmail, uniqueName } from "./fixtures";

test.describe.configure({ mode: "serial" });

const owner = uniqueEmail("owner");
const member = uniqueEmail("operator");
const viewer = uniqueEmail("viewer");
const tenantName = `Acme ${uniqueName("e2e")}`;
const fileName = `sensors.${uniqueName("temp")}`;
/** Filled in by the first test. */
let slug = "";

/** Invites `email` with `role` from the members page and returns the link (shown once). */
async function invite(page: Page, email: string, role: "Admin" | "Operator" | "Viewer"): Promise<string> {
  await page.goto(`/t/${slug}/members`);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Role", { exact: true }).selectOption({ label: role });
  await page.getByRole("button", { name: "Create invitation" }).click();
  const link = page.getByLabel(`Invitation link for ${email}`);
  await expect(link).toBeVisible();
  const url = await link.inputValue();
  expect(url).toMatch(/\/invite\/[A-Za-z0-9_-]{20,}$/);
  await expect(page.getByRole("table", { name: "Pending invitations" }).getByRole("row", { name: new RegExp(email) })).toBeVisible();
  return new URL(url).pathname;
}

/** The signed-in user's tenant id for `slug`, read from the API the UI uses. */
async function tenantIdOf(page: Page): Promise<string> {
  const res = await page.request.get("/api/trpc/me.get");
  expect(res.ok()).toBe(true);
  const body = (await res.json()) as { result: { data: { json: { memberships: Array<{ tenant: { id: string; slug: string } }> } } } };
  const m = body.result.data.json.memberships.find((x) => x.tenant.slug === slug);
  expect(m, `a membership in ${slug}`).toBeTruthy();
  return m!.tenant.id;
}

test("an owner signs in, creates a tenant, and invites a member who accepts in their own browser", async ({ page, signIn, openPage }) => {
  test.setTimeout(180_000);

  await test.step("a first-time user is led to create a tenant", async () => {
    await signIn(page, owner);
    await expect(page.getByRole("heading", { name: "Create your first tenant" })).toBeVisible();
    slug = await createTenantInUi(page, tenantName);
    await expect(page.getByText("Your role: Owner", { exact: true })).toBeVisible();
    await expect(page.getByRole("button", { name: `Tenant: ${tenantName}. Switch tenant` })).toBeVisible();
  });

  await test.step("invalid input shows a message next to the field", async () => {
    await page.goto(`/t/${slug}/members`);
    await page.getByLabel("Email", { exact: true }).fill("not-an-email");
    await page.getByRole("button", { name: "Create invitation" }).click();
    await expect(page.getByLabel("Email", { exact: true })).toHaveAttribute("aria-invalid", "true");
    await expect(page.getByLabel("Email", { exact: true })).toHaveAccessibleDescription(/Enter an email address/);
  });

  const invitePath = await test.step("the owner invites an operator and gets the link once", () => invite(page, member, "Operator"));

  await test.step("someone signed in with another email cannot accept", async () => {
    const stranger = await openPage();
    await signIn(stranger, uniqueEmail("stranger"), { callbackUrl: invitePath });
    await expect(stranger.getByRole("heading", { name: `Join ${tenantName}` })).toBeVisible();
    await expect(stranger.getByText("Signed in with a different email")).toBeVisible();
    await expect(stranger.getByRole("button", { name: "Accept invitation" })).toHaveCount(0);
  });

  await test.step("the invitee signs in in a separate browser and accepts", async () => {
    const invitee = await openPage();
    await signIn(invitee, member, { callbackUrl: invitePath });
    await expect(invitee.getByRole("heading", { name: `Join ${tenantName}` })).toBeVisible();
    await expect(invitee.getByText("Operator", { exact: true })).toBeVisible();
    await expect(invitee.getByText(member, { exact: true })).toBeVisible();
    await invitee.getByRole("button", { name: "Accept invitation" }).click();
    await invitee.waitForURL(new RegExp(`/t/${slug}$`));
    await expect(invitee.getByText("Your role: Operator", { exact: true })).toBeVisible();

    // The link was single-use.
    await invitee.goto(invitePath);
    await expect(invitee.getByText("This invitation has already been used")).toBeVisible();
  });

  await test.step("the owner sees the new member; the last owner cannot be removed", async () => {
    await page.reload();
    const members = page.getByRole("table", { name: "Members" });
    await expect(members.getByRole("row", { name: new RegExp(member) })).toBeVisible();
    await expect(page.getByRole("table", { name: "Pending invitations" })).toHaveCount(0);
    await expect(page.getByRole("button", { name: `Remove ${nameFromEmail(owner)}` })).toBeDisabled();
    await expect(page.getByText("The last owner can be neither removed nor demoted")).toBeVisible();
  });
});

test("an API key is shown once, works against REST, and stops working when revoked", async ({ page, signIn, request }) => {
  test.setTimeout(120_000);
  await signIn(page, owner, { callbackUrl: `/t/${slug}/api-keys` });
  await expect(page.getByRole("heading", { level: 1, name: "API keys" })).toBeVisible();
  await expect(page.getByText("No API keys yet")).toBeVisible();

  await page.getByLabel("Key name").fill("ci-reader");
  await page.getByRole("checkbox", { name: "tenant:read" }).check();
  await expect(page.getByRole("checkbox", { name: "files:read" })).toBeChecked();
  await page.getByLabel("Shared-file name patterns").fill("sensors.*");
  await page.getByRole("button", { name: "Create API key" }).click();

  const secret = page.getByLabel("Secret of “ci-reader”");
  await expect(secret).toBeVisible();
  const key = await secret.inputValue();
  expect(key).toMatch(/^cmy_/);
  const row = page.getByRole("table", { name: "API keys" }).getByRole("row", { name: /ci-reader/ });
  await expect(row).toContainText("tenant:read");
  await expect(row).toContainText("sensors.*");
  await expect(row).toContainText("Active");

  const auth = { Authorization: `Bearer ${key}` };
  const tenant = await request.get("/api/v1/tenant", { headers: auth });
  expect(tenant.status()).toBe(200);
  expect(await tenant.json()).toMatchObject({ slug, name: tenantName });

  // Scopes are enforced: this key cannot read the audit log.
  const audit = await request.get("/api/v1/audit", { headers: auth });
  expect(audit.status()).toBe(403);

  // The secret is not shown again after a reload.
  await page.reload();
  await expect(page.getByLabel("Secret of “ci-reader”")).toHaveCount(0);

  await page.getByRole("button", { name: "Revoke ci-reader" }).click();
  const dialog = page.getByRole("dialog", { name: "Revoke “ci-reader”?" });
  await dialog.getByRole("button", { name: "Revoke key" }).click();
  await expect(dialog).toBeHidden();
  await expect(row).toContainText("Revoked");

  await expect
    .poll(async () => (await request.get("/api/v1/tenant", { headers: auth })).status(), { timeout: 10_000 })
    .toBe(401);
  const refused = await request.get("/api/v1/tenant", { headers: auth });
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("API_KEY_REVOKED");
});

test("a shared file is declared with every field explained and errors shown next to fields", async ({ page, signIn }) => {
  test.setTimeout(120_000);
  await signIn(page, owner, { callbackUrl: `/t/${slug}/files` });
  await expect(page.getByText("No shared files yet")).toBeVisible();
  await page.getByRole("link", { name: "New shared file" }).first().click();
  await expect(page.getByRole("heading", { level: 1, name: "New shared file" })).toBeVisible();

  // Every field of the request model is there, labelled, with help text.
  for (const label of [
    "Name",
    "Kind",
    "Description",
    "Pattern",
    "Topology",
    "Directionality",
    "Serialization",
    "Max size (bytes)",
    "TTL (seconds)",
    "Max connections",
    "Creation policy",
    "Existence policy",
    "Transport preference",
    "Max latency (µs)",
    "Min throughput (messages/s)",
    "Consistency",
    "Durability",
  ]) {
    const field = page.getByLabel(label, { exact: true });
    await expect(field, label).toBeVisible();
    await expect(field, `${label} has help text`).toHaveAccessibleDescription(/\S/);
  }
  await expect(page.getByRole("checkbox", { name: "Auto-cleanup" })).toBeChecked();
  await expect(page.getByRole("checkbox", { name: "Persist after disconnect" })).not.toBeChecked();
  await expect(page.getByRole("group", { name: "Required permissions" })).toBeVisible();

  // A name the platform cannot use: the message says what is allowed, next to the field.
  await page.getByLabel("Name", { exact: true }).fill("Not A Valid Name");
  await page.getByRole("button", { name: "Create shared file" }).click();
  await expect(page.getByText(/fields? needs? attention/)).toBeVisible();
  await expect(page.getByLabel("Name", { exact: true })).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Name", { exact: true })).toHaveAccessibleDescription(/lowercase letters, digits/);

  // A stream that contradicts itself: each rule names what to change, next to its field.
  await page.getByLabel("Name", { exact: true }).fill(fileName);
  await page.getByLabel("Kind", { exact: true }).selectOption("stream");
  await page.getByLabel("Pattern", { exact: true }).selectOption("blackboard");
  await page.getByRole("checkbox", { name: "Persist after disconnect" }).check();
  await page.getByRole("button", { name: "Create shared file" }).click();
  await expect(page.getByLabel("Name", { exact: true })).not.toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Pattern", { exact: true })).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Pattern", { exact: true })).toHaveAccessibleDescription(/needs kind "variables"/);
  await expect(page.getByText("persistAfterDisconnect needs autoCleanup: false")).toBeVisible();

  // Fix them, and fill in the stream's layout and performance needs.
  await page.getByLabel("Description").fill("Temperatures from the lab sensors");
  await page.getByLabel("Pattern", { exact: true }).selectOption("publish-subscribe");
  await page.getByLabel("Topology", { exact: true }).selectOption("one-to-many");
  await page.getByLabel("Serialization", { exact: true }).selectOption("msgpack");
  await page.getByRole("checkbox", { name: "Auto-cleanup" }).uncheck();
  await page.getByLabel("Max message size (bytes)").fill("128");
  await page.getByLabel("Capacity (messages)").fill("4096");
  await page.getByLabel("Overflow", { exact: true }).selectOption("refuse");
  await page.getByLabel("TTL (seconds)").fill("3600");
  await page.getByLabel("Max latency (µs)").fill("50");
  await page.getByLabel("Transport preference", { exact: true }).selectOption("prefer-local");
  await expect(page.getByText(/fields? needs? attention/)).toHaveCount(0);
  await page.getByRole("button", { name: "Create shared file" }).click();

  await page.waitForURL(new RegExp(`/t/${slug}/files/${fileName.replace(/\./g, "\\.")}$`));
  await expect(page.getByRole("heading", { level: 1, name: fileName })).toBeVisible();
  await expect(page.getByText("Publish subscribe", { exact: true })).toBeVisible();
  await expect(page.getByText("MessagePack", { exact: true })).toBeVisible();
  await expect(page.getByText("Refuse new messages (back-pressure)")).toBeVisible();
  await expect(page.getByText("50 µs")).toBeVisible();

  // Edit: name and kind are locked; a change bumps the revision.
  await page.getByRole("link", { name: "Edit" }).click();
  await expect(page.getByLabel("Name", { exact: true })).toHaveAttribute("readonly", "");
  await expect(page.getByLabel("Kind", { exact: true })).toBeDisabled();
  await page.getByLabel("Max connections").fill("16");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByText("Revision 2")).toBeVisible();

  await page.goto(`/t/${slug}/files`);
  await expect(page.getByRole("table", { name: "Shared files" }).getByRole("link", { name: fileName })).toBeVisible();
});

test("a viewer sees no mutation buttons, and a direct attempt to mutate is refused", async ({ page, signIn, openPage }) => {
  test.setTimeout(180_000);
  await signIn(page, owner);
  const invitePath = await invite(page, viewer, "Viewer");

  const v = await openPage();
  await signIn(v, viewer, { callbackUrl: invitePath });
  await v.getByRole("button", { name: "Accept invitation" }).click();
  await v.waitForURL(new RegExp(`/t/${slug}$`));
  await expect(v.getByText("Your role: Viewer", { exact: true })).toBeVisible();

  await v.goto(`/t/${slug}/members`);
  await expect(v.getByRole("table", { name: "Members" }).getByRole("row", { name: new RegExp(owner) })).toBeVisible();
  await expect(v.getByRole("button", { name: "Create invitation" })).toHaveCount(0);
  await expect(v.getByRole("button", { name: /^Remove / })).toHaveCount(0);
  await expect(v.getByRole("combobox", { name: /^Role of / })).toHaveCount(0);

  await v.goto(`/t/${slug}/api-keys`);
  await expect(v.getByRole("table", { name: "API keys" }).getByRole("row", { name: /ci-reader/ })).toBeVisible();
  await expect(v.getByRole("button", { name: "Create API key" })).toHaveCount(0);
  await expect(v.getByRole("button", { name: /^Revoke / })).toHaveCount(0);

  await v.goto(`/t/${slug}/files`);
  await expect(v.getByRole("link", { name: fileName })).toBeVisible();
  await expect(v.getByRole("link", { name: "New shared file" })).toHaveCount(0);
  await v.getByRole("link", { name: fileName }).click();
  await expect(v.getByRole("heading", { level: 1, name: fileName })).toBeVisible();
  await expect(v.getByRole("link", { name: "Edit" })).toHaveCount(0);
  await expect(v.getByRole("button", { name: "Delete" })).toHaveCount(0);

  await v.goto(`/t/${slug}/files/new`);
  await expect(v.getByText("Your role cannot create shared files")).toBeVisible();
  await expect(v.getByRole("button", { name: "Create shared file" })).toHaveCount(0);

  await v.goto(`/t/${slug}/settings`);
  await expect(v.getByText("Your role can read these settings but not change them")).toBeVisible();
  await expect(v.getByLabel("Tenant name")).toBeDisabled();
  await expect(v.getByRole("button", { name: "Rename" })).toHaveCount(0);
  await expect(v.getByRole("button", { name: "Delete tenant" })).toHaveCount(0);

  await v.goto(`/t/${slug}/audit`);
  await expect(v.getByRole("button", { name: "Verify chain" })).toHaveCount(0);
  await expect(v.getByRole("link", { name: "Export CSV" })).toHaveCount(0);

  // Going around the UI does not help: the server refuses, naming the missing permission.
  const tenantId = await tenantIdOf(v);
  const attempt = await v.request.post("/api/trpc/sharedFile.create", {
    data: {
      json: {
        tenantId,
        file: { name: uniqueName("sneaky"), kind: "variables", layout: { type: "variables", slots: [{ name: "x", maxSize: 8 }] } },
      },
    },
  });
  expect(attempt.status()).toBe(403);
  const error = (await attempt.json()) as { error: { json: { message: string; data: { code: string } } } };
  expect(error.error.json.data.code).toBe("FORBIDDEN");
  expect(error.error.json.message).toContain("file:create");

  const rename = await v.request.post("/api/trpc/tenant.rename", { data: { json: { tenantId, name: "Taken over" } } });
  expect(rename.status()).toBe(403);

  // And the owner's view is unchanged.
  await page.goto(`/t/${slug}/files`);
  await expect(page.getByRole("table", { name: "Shared files" }).getByRole("row")).toHaveCount(2); // header + one file
});

test("the audit log shows all of it, verifies its chain, and exports CSV and JSON Lines", async ({ page, signIn }) => {
  test.setTimeout(120_000);
  await signIn(page, owner, { callbackUrl: `/t/${slug}/audit` });
  const table = page.getByRole("table", { name: "Audit events, newest first" });
  const expected = [
    "tenant.created",
    "invitation.created",
    "invitation.accepted",
    "member.added",
    "apikey.created",
    "apikey.revoked",
    "file.created",
    "file.updated",
    "apikey.auth_failed",
  ];
  for (const action of expected) {
    await expect(table.getByRole("cell", { name: action, exact: true }).first(), action).toBeVisible();
  }
  // The revoked key's attempt is recorded as denied.
  await expect(table.getByRole("row", { name: /apikey\.auth_failed.*denied/ }).first()).toBeVisible();

  await test.step("filters narrow the table", async () => {
    await page.getByLabel("Action", { exact: true }).selectOption("file.created");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(table.getByRole("row")).toHaveCount(2); // header + the one file.created
    await expect(table.getByRole("cell", { name: "file.created", exact: true })).toBeVisible();
    await page.getByLabel("Action", { exact: true }).selectOption("");
    await page.getByLabel("Actor", { exact: true }).fill(member);
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(table.getByRole("cell", { name: "invitation.accepted", exact: true })).toBeVisible();
    await expect(table.getByRole("cell", { name: "tenant.created", exact: true })).toHaveCount(0);
    await page.getByRole("button", { name: "Clear" }).click();
    await expect(table.getByRole("cell", { name: "tenant.created", exact: true })).toBeVisible();
  });

  await test.step("the hash chain verifies", async () => {
    await page.getByRole("button", { name: "Verify chain" }).click();
    await expect(page.getByText("Chain OK")).toBeVisible();
  });

  await test.step("CSV export downloads every event", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV" }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    const csv = await readFile(await download.path(), "utf8");
    const [header, ...rows] = csv.trim().split(/\r?\n/);
    expect(header).toContain("seq,id,occurredAt");
    expect(header).toContain("action");
    for (const action of expected) expect(csv, action).toContain(action);
    expect(rows.length).toBeGreaterThanOrEqual(expected.length);
  });

  await test.step("JSON Lines export downloads every event, in chain order", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export JSON Lines" }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.jsonl$/);
    const text = await readFile(await download.path(), "utf8");
    const events = text
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { seq: number; action: string; hash: string; prevHash: string });
    const actions = new Set(events.map((e) => e.action));
    for (const action of expected) expect(actions, action).toContain(action);
    for (let i = 1; i < events.length; i++) {
      expect(events[i]!.seq).toBe(events[i - 1]!.seq + 1);
      expect(events[i]!.prevHash).toBe(events[i - 1]!.hash);
    }
  });
});
