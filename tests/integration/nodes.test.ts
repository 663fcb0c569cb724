/**
 * Node listing against a real PostgreSQL: health computed from heartbeat age relative to each
 * node's own interval, the health filter done in SQL agreeing with the JS definition, pagination
 * and tenant scoping.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NODE_HEALTHS } from "~/server/contracts/node";
import { db } from "~/server/db";
import { AppError } from "~/server/errors";
import { getNode, listNodes } from "~/server/services/nodes";
import { createTestTenant, type TestTenant } from "./control-plane-fixtures";

let tenant: TestTenant;

/** Nodes at ages chosen well inside each band (a slow test run must not move them across). */
const NODES: { name: string; intervalMs: number; ageMs: number | null; health: (typeof NODE_HEALTHS)[number] }[] = [
  { name: "fresh", intervalMs: 5000, ageMs: 1000, health: "healthy" },
  { name: "slow-interval", intervalMs: 60_000, ageMs: 100_000, health: "healthy" }, // 1.7× its own interval
  { name: "late", intervalMs: 5000, ageMs: 15_000, health: "degraded" }, // 3×
  { name: "later", intervalMs: 5000, ageMs: 30_000, health: "unresponsive" }, // 6×
  { name: "gone", intervalMs: 5000, ageMs: 120_000, health: "disconnected" }, // 24×
  { name: "never", intervalMs: 5000, ageMs: null, health: "disconnected" },
];

beforeAll(async () => {
  tenant = await createTestTenant();
  const now = Date.now();
  for (const n of NODES) {
    await db.node.create({
      data: {
        tenantId: tenant.tenantId,
        name: n.name,
        hostname: `${n.name}.local`,
        version: "1.0.0",
        credentialHash: randomBytes(32).toString("hex"),
        heartbeatIntervalMs: n.intervalMs,
        lastHeartbeatAt: n.ageMs === null ? null : new Date(now - n.ageMs),
        labels: { zone: "a" },
        capabilities: { shmBytes: 1024 },
      },
    });
  }
});
afterAll(async () => {
  await db.$disconnect();
});

describe("nodes", () => {
  it("computes health from heartbeat age and each node's interval", async () => {
    const page = await listNodes(tenant.owner.ctx, { limit: 100 });
    const byName = Object.fromEntries(page.items.map((n) => [n.name, n]));
    for (const n of NODES) expect(byName[n.name]?.health, n.name).toBe(n.health);
    expect(byName.fresh).toMatchObject({ labels: { zone: "a" }, capabilities: { shmBytes: 1024 }, status: "active", heartbeatIntervalMs: 5000 });
    expect(byName.never?.lastHeartbeatAt).toBeNull();
    // The credential hash never leaves the service.
    expect(JSON.stringify(page)).not.toMatch(/credential/i);
  });

  it.each(NODE_HEALTHS)("filters by health %s in SQL, agreeing with the computed health", async (health) => {
    const page = await listNodes(tenant.owner.ctx, { limit: 100, health });
    expect(page.items.map((n) => n.name).sort()).toEqual(NODES.filter((n) => n.health === health).map((n) => n.name).sort());
    for (const n of page.items) expect(n.health).toBe(health);
  });

  it("pages by name", async () => {
    const first = await listNodes(tenant.owner.ctx, { limit: 4 });
    const second = await listNodes(tenant.owner.ctx, { limit: 4, cursor: first.nextCursor! });
    expect([...first.items, ...second.items].map((n) => n.name)).toEqual(NODES.map((n) => n.name).sort());
    expect(second.nextCursor).toBeNull();
  });

  it("never shows another tenant's nodes", async () => {
    const other = await createTestTenant();
    expect((await listNodes(other.owner.ctx, { limit: 100 })).items).toEqual([]);
    const mine = (await listNodes(tenant.owner.ctx, { limit: 1 })).items[0]!;
    await expect(getNode(other.owner.ctx, mine.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(getNode(tenant.owner.ctx, mine.id)).resolves.toMatchObject({ id: mine.id });
  });

  it("needs node:read", async () => {
    const ctx = { ...tenant.owner.ctx, actor: { type: "API_KEY" as const, apiKeyId: "k", tenantId: tenant.tenantId, scopes: ["files:read"], filePatterns: [], label: "k" }, role: null };
    await expect(listNodes(ctx, { limit: 10 })).rejects.toBeInstanceOf(AppError);
  });
});
