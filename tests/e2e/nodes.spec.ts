/**
 * Nodes as a tenant owner manages them, in a real Chromium against the production build: "Add
 * node" shows the one-time join command; a worker joins with it (the worker API called directly,
 * as the daemon would); its heartbeat makes it Healthy; drain and revoke change its state and a
 * revoked credential gets 401 at once. Tenant worker settings: a save bumps the version, invalid
 * values show field errors, and rollback restores an older version.
 *
 * The tests run in order and share one tenant.
 */
import type { APIRequestContext, Page } from "@playwright/test";
import { createTenantInUi, expect, test, uniqueEmail, uniqueName } from "./fixtures";

test.describe.configure({ mode: "serial" });

const owner = uniqueEmail("nodes-owner");
const tenantName = `Nodes ${uniqueName("e2e")}`;
const hostname = uniqueName("host");
let slug = "";

function join(request: APIRequestContext, token: string) {
  return request.post("/api/worker/join", {
    data: {
      token,
      hostname,
      version: "0.0.0-e2e",
      labels: { rack: "r1" },
      capabilities: { shmBytes: 1 << 30, ipcNamespace: "ipc:[4026531839]", bootId: "e2e-boot", platform: "linux", arch: "x64", cpus: 2 },
    },
  });
}

function heartbeat(request: APIRequestContext, credential: string) {
  return request.post("/api/worker/heartbeat", {
    headers: { authorization: `Node ${credential}` },
    data: { state: "running", version: "0.0.0-e2e", settingsVersion: 0, catalogueEtag: null, stats: { sessions: 0, attachments: 0, mappedBytes: 0 } },
  });
}

test("a node joins with the command from Add node, turns Healthy, and is drained and revoked", async ({ page, signIn, request }) => {
  test.setTimeout(180_000);
  await signIn(page, owner);
  slug = await createTenantInUi(page, tenantName);

  await page.goto(`/t/${slug}/nodes`);
  await expect(page.getByRole("heading", { level: 1, name: "Nodes" })).toBeVisible();
  await expect(page.getByText("No nodes yet")).toBeVisible();

  const token = await test.step("Add node shows the join command once, with its expiry", async () => {
    await page.getByRole("button", { name: "Add node" }).first().click();
    const dialog = page.getByRole("dialog", { name: "Add a node" });
    await expect(dialog).toBeVisible();
    await dialog.getByLabel("Labels").fill("not a label");
    await dialog.getByRole("button", { name: "Create join command" }).click();
    await expect(dialog.getByLabel("Labels")).toHaveAttribute("aria-invalid", "true");
    await expect(dialog.getByLabel("Labels")).toHaveAccessibleDescription(/is not key=value/);

    await dialog.getByLabel("Labels").fill("zone=e2e");
    await dialog.getByRole("button", { name: "Create join command" }).click();
    const command = dialog.getByLabel("Command to run on the host");
    await expect(command).toBeVisible();
    const text = await command.inputValue();
    expect(text).toMatch(/--join-token cmj_[A-Za-z0-9_-]{40,}/);
    expect(text).toContain("--label zone=e2e");
    await expect(command).toHaveAccessibleDescription(/Shown once.*expires in/);
    await expect(dialog.getByRole("button", { name: "Copy" })).toBeVisible();
    await dialog.getByRole("button", { name: "Done" }).click();
    await expect(dialog).toBeHidden();
    return /--join-token (\S+)/.exec(text)![1]!;
  });

  const credential = await test.step("the worker joins; the token works once", async () => {
    const res = await join(request, token);
    expect(res.status()).toBe(201);
    const body = (await res.json()) as { credential: string; name: string };
    expect(body.name).toBe(hostname);
    expect(body.credential).toMatch(/^cmn_/);
    const again = await join(request, token);
    expect(again.status()).toBe(401);
    return body.credential;
  });

  const row = page.getByRole("table", { name: "Nodes" }).getByRole("row", { name: new RegExp(hostname) });
  await test.step("after a heartbeat the node is listed as Healthy with its labels", async () => {
    const hb = await heartbeat(request, credential);
    expect(hb.status()).toBe(200);
    expect(((await hb.json()) as { nodeStatus: string }).nodeStatus).toBe("ACTIVE");
    await page.reload();
    await expect(row).toBeVisible();
    await expect(row.getByText("Healthy")).toBeVisible();
    await expect(row.getByText("zone=e2e")).toBeVisible();
    await expect(row.getByText("rack=r1")).toBeVisible();
    await expect(row.getByText("0.0.0-e2e")).toBeVisible();

    await row.getByRole("button", { name: new RegExp(`^${hostname}`) }).click();
    await expect(page.getByText("No process on this node is attached to a shared file.")).toBeVisible();
  });

  await test.step("drain: the node says Draining and its heartbeat hears it", async () => {
    await page.getByRole("button", { name: `Drain ${hostname}` }).click();
    const dialog = page.getByRole("dialog", { name: `Drain ${hostname}?` });
    await dialog.getByRole("button", { name: "Drain node" }).click();
    await expect(dialog).toBeHidden();
    await expect(row.getByText("Draining")).toBeVisible();
    const hb = await heartbeat(request, credential);
    expect(((await hb.json()) as { nodeStatus: string }).nodeStatus).toBe("DRAINING");
  });

  await test.step("revoke: confirmed by typing the name; the credential gets 401 at once", async () => {
    await page.getByRole("button", { name: `Revoke ${hostname}` }).click();
    const dialog = page.getByRole("dialog", { name: `Revoke ${hostname}?` });
    await expect(dialog.getByText("credential stops working at once")).toBeVisible();
    await expect(dialog.getByRole("button", { name: "Revoke node" })).toBeDisabled();
    await dialog.getByLabel(/to confirm/).fill(hostname);
    await dialog.getByRole("button", { name: "Revoke node" }).click();
    await expect(dialog).toBeHidden();
    await expect(row.getByText("Revoked").first()).toBeVisible();
    await expect(page.getByRole("button", { name: `Revoke ${hostname}` })).toHaveCount(0);
    const hb = await heartbeat(request, credential);
    expect(hb.status()).toBe(401);
    expect(((await hb.json()) as { error: { code: string } }).error.code).toBe("NODE_REVOKED");
  });
});

test("worker settings: a save bumps the version, bad values show field errors, rollback restores", async ({ page, signIn }) => {
  test.setTimeout(120_000);
  await signIn(page, owner, { callbackUrl: `/t/${slug}/nodes` });
  const form = page.getByRole("form", { name: "Worker settings" });
  const interval = form.getByLabel("Heartbeat interval (ms)");
  await expect(interval).toHaveValue("5000");
  await expect(page.getByText("Version 0 (defaults)")).toBeVisible();

  await interval.fill("500");
  await form.getByRole("button", { name: "Save settings" }).click();
  await expect(interval).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText("Version 0 (defaults)")).toBeVisible();

  await interval.fill("3000");
  await form.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText("Version 1", { exact: true })).toBeVisible();
  await expect(interval).not.toHaveAttribute("aria-invalid", "true");

  await interval.fill("4000");
  await form.getByLabel("Log level").selectOption("debug");
  await form.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText("Version 2", { exact: true })).toBeVisible();
  const history = page.getByRole("table", { name: "Worker settings versions" });
  await expect(history.getByRole("row")).toHaveCount(3);

  await page.getByRole("button", { name: "Roll back to version 1" }).click();
  await page.getByRole("dialog", { name: "Roll back to version 1?" }).getByRole("button", { name: "Roll back" }).click();
  await expect(page.getByText("Version 3", { exact: true })).toBeVisible();
  await expect(interval).toHaveValue("3000");
  await expect(form.getByLabel("Log level")).toHaveValue("info");
  await expect(history.getByRole("row")).toHaveCount(4);

  await page.reload();
  await expect(form.getByLabel("Heartbeat interval (ms)")).toHaveValue("3000");
});
