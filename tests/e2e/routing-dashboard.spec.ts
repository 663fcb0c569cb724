/**
 * The cross-node dashboard in a real Chromium against the production build: a worker (the worker
 * API called directly, as the daemon would) reports its transport decision for a shared file;
 * the file's page shows the decision and its reason without a reload, and the live event feed
 * (server-sent events) shows `transport.selected`, then `transport.switched` when the decision
 * changes, and the Events page follows the same feed.
 */
import type { APIRequestContext, Page } from "@playwright/test";
import { createTenantInUi, expect, test, uniqueEmail, uniqueName } from "./fixtures";

async function tenantIdOf(page: Page, slug: string): Promise<string> {
  const res = await page.request.get("/api/trpc/me.get");
  expect(res.ok()).toBe(true);
  const body = (await res.json()) as { result: { data: { json: { memberships: Array<{ tenant: { id: string; slug: string } }> } } } };
  const m = body.result.data.json.memberships.find((x) => x.tenant.slug === slug);
  expect(m, `a membership in ${slug}`).toBeTruthy();
  return m!.tenant.id;
}

const zero = { messagesPerSec: 0, bytesPerSec: 0, latencyP50Us: null, latencyP99Us: null, messagesTotal: 0 };

function putRoutes(request: APIRequestContext, credential: string, fileId: string, decision: { transport: string; reasonCode: string; reason: string; remotePeers: string[]; colocatedPeers: string[] }) {
  return request.put("/api/worker/routes", {
    headers: { authorization: `Node ${credential}` },
    data: {
      routes: [
        {
          sharedFileId: fileId,
          status: "ok",
          inputs: { preference: "AUTO", redisHealthy: true, peers: decision.remotePeers.length + decision.colocatedPeers.length },
          degradedPeers: [],
          warnings: [],
          decidedAt: new Date().toISOString(),
          stats: {
            sharedMemory: zero,
            network: { messagesPerSec: 850, bytesPerSec: 54400, latencyP50Us: 210, latencyP99Us: 1400, messagesTotal: 12000 },
            streamLagMs: 3,
            pendingFrames: 0,
            deadLetters: 0,
            backlog: 0,
          },
          ...decision,
        },
      ],
    },
  });
}

test("the file dashboard shows each node's transport decision with its reason, and the event feed updates live", async ({ page, signIn, request }) => {
  test.setTimeout(180_000);
  await signIn(page, uniqueEmail("routing-owner"));
  const slug = await createTenantInUi(page, `Routing ${uniqueName("e2e")}`);
  const tenantId = await tenantIdOf(page, slug);
  const fileName = uniqueName("telemetry");

  const fileId = await test.step("declare a file and join a worker", async () => {
    const created = await page.request.post("/api/v1/files", {
      headers: { "x-commy-tenant": tenantId },
      data: { name: fileName, kind: "variables", layout: { type: "variables", slots: [{ name: "celsius", maxSize: 64 }] } },
    });
    expect(created.status(), await created.text()).toBe(201);
    return ((await created.json()) as { id: string }).id;
  });

  const credential = await test.step("a worker joins with a join token", async () => {
    const tokenRes = await page.request.post("/api/trpc/nodeAdmin.createJoinToken", { data: { json: { tenantId } } });
    expect(tokenRes.ok(), await tokenRes.text()).toBe(true);
    const token = ((await tokenRes.json()) as { result: { data: { json: { token: string } } } }).result.data.json.token;
    const joined = await request.post("/api/worker/join", {
      data: {
        token,
        name: "edge-a",
        hostname: "edge-a.e2e",
        version: "0.0.0-e2e",
        labels: {},
        capabilities: { shmBytes: 1 << 30, ipcNamespace: "ipc:[1]", bootId: "boot-a", platform: "linux", arch: "x64", cpus: 2 },
      },
    });
    expect(joined.status()).toBe(201);
    return ((await joined.json()) as { credential: string }).credential;
  });

  await page.goto(`/t/${slug}/files/${encodeURIComponent(fileName)}`);
  await expect(page.getByRole("heading", { level: 2, name: "Transport decisions", exact: true })).toBeVisible();
  await expect(page.getByText("No node has reported a transport decision for this file yet")).toBeVisible();
  const feed = page.getByRole("region", { name: "Live events" });
  await expect(feed.getByTestId("event-feed-state")).toHaveText("● live");

  await test.step("a NETWORK decision appears with its reason, no reload", async () => {
    const res = await putRoutes(request, credential, fileId, {
      transport: "NETWORK",
      reasonCode: "REMOTE_PEERS",
      reason: "1 peer on another host: edge-b",
      remotePeers: ["edge-b"],
      colocatedPeers: [],
    });
    expect(res.status(), await res.text()).toBe(200);
    const table = page.getByRole("table", { name: `Transport decisions for ${fileName}` });
    const row = table.getByRole("row", { name: /edge-a/ });
    await expect(row).toContainText("Network (Redis)");
    await expect(row).toContainText("1 peer on another host: edge-b");
    await expect(row).toContainText("REMOTE_PEERS");
    await expect(page.getByText("Why does this file use the network?")).toBeVisible();
    await expect(feed.getByTestId("event-feed").getByText("transport.selected")).toBeVisible();
  });

  await test.step("the decision switches to HYBRID: the table and the feed follow", async () => {
    const res = await putRoutes(request, credential, fileId, {
      transport: "HYBRID",
      reasonCode: "MIXED_PEERS",
      reason: "co-located peer edge-a2 through shared memory, remote peer edge-b through Redis",
      remotePeers: ["edge-b"],
      colocatedPeers: ["edge-a2"],
    });
    expect(res.status()).toBe(200);
    const row = page.getByRole("table", { name: `Transport decisions for ${fileName}` }).getByRole("row", { name: /edge-a/ });
    await expect(row).toContainText("Hybrid");
    await expect(row).toContainText("co-located peer edge-a2");
    await expect(feed.getByTestId("event-feed").getByText("transport.switched")).toBeVisible();
    await expect(feed.getByTestId("event-feed")).toContainText("NETWORK → HYBRID");
  });

  await test.step("the Events page follows the tenant feed", async () => {
    await page.getByRole("link", { name: "Events" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Events" })).toBeVisible();
    const tenantFeed = page.getByRole("region", { name: "Tenant event feed" });
    await expect(tenantFeed.getByTestId("event-feed")).toContainText("transport.switched");
    await expect(tenantFeed.getByTestId("event-feed-state")).toHaveText("● live");
    const created = await page.request.post("/api/v1/files", {
      headers: { "x-commy-tenant": tenantId },
      data: { name: `${fileName}-2`, kind: "variables", layout: { type: "variables", slots: [{ name: "v", maxSize: 8 }] } },
    });
    expect(created.status()).toBe(201);
    await expect(tenantFeed.getByTestId("event-feed")).toContainText(`${fileName}-2`);
  });
});
