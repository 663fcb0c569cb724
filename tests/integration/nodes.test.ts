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
import * as heartbeatRoute from "~/app/api/worker/heartbeat/route";
import * as expiredRoute from "~/app/api/worker/expired/route";
import { createJoinToken, drainNode, exchangeJoinToken, updateWorkerSettings } from "~/server/services/node-join";
import { getNode, listNodes } from "~/server/services/nodes";
import { createSharedFile } from "~/server/services/shared-files";
import { createTestTenant, fileBody, type TestTenant } from "./control-plane-fixtures";

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

async function joinNode(name: string, into: TestTenant = tenant): Promise<{ nodeId: string; credential: string }> {
  const token = await createJoinToken(into.owner.ctx, { controlPlaneUrl: "http://localhost" });
  const joined = await exchangeJoinToken(
    { token: token.token, name, hostname: `${name}.local`, version: "1.0.0", labels: {}, capabilities: { shmBytes: 1 << 30, ipcNamespace: "ipc:1", bootId: `boot-${name}`, platform: "linux", arch: "x64", cpus: 2 } },
    { requestId: "req-join", ip: "127.0.0.1", userAgent: "vitest" },
  );
  return { nodeId: joined.nodeId, credential: joined.credential };
}

describe("heartbeat", () => {
  const body = { state: "running", version: "1.2.3", settingsVersion: 0, catalogueEtag: null, stats: { sessions: 0, attachments: 0, mappedBytes: 0 } };
  function beat(credential: string | null, payload: unknown = body): Promise<Response> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (credential) headers.authorization = `Node ${credential}`;
    return heartbeatRoute.POST(new Request("http://localhost/api/worker/heartbeat", { method: "POST", headers, body: JSON.stringify(payload) }));
  }

  it("records liveness and the version, copies the active settings' interval and returns its version", async () => {
    const { nodeId, credential } = await joinNode(`hb-${randomBytes(4).toString("hex")}`);
    const before = await db.node.findUniqueOrThrow({ where: { id: nodeId } });
    const res = await beat(credential);
    expect(res.status).toBe(200);
    const first = (await res.json()) as { nodeStatus: string; heartbeatIntervalMs: number; settingsVersion: number; serverTime: string };
    const row = await db.node.findUniqueOrThrow({ where: { id: nodeId } });
    expect(row.version).toBe("1.2.3");
    expect(row.lastHeartbeatAt?.toISOString()).toBe(first.serverTime);
    expect(row.updatedAt.getTime()).toBeGreaterThanOrEqual(before.updatedAt.getTime());
    expect(first).toMatchObject({ nodeStatus: "ACTIVE", heartbeatIntervalMs: row.heartbeatIntervalMs });

    const saved = await updateWorkerSettings(tenant.owner.ctx, { heartbeatIntervalMs: 7000 });
    const second = (await (await beat(credential)).json()) as { heartbeatIntervalMs: number; settingsVersion: number };
    expect(second).toMatchObject({ heartbeatIntervalMs: 7000, settingsVersion: saved.version });
    expect((await db.node.findUniqueOrThrow({ where: { id: nodeId } })).heartbeatIntervalMs).toBe(7000);
    expect((await getNode(tenant.owner.ctx, nodeId)).health).toBe("healthy");

    await drainNode(tenant.owner.ctx, { nodeId, drain: true });
    expect(await (await beat(credential)).json()).toMatchObject({ nodeStatus: "DRAINING" });
  });

  it("refuses unknown, malformed and revoked credentials with the same errors as the other worker endpoints", async () => {
    const { nodeId, credential } = await joinNode(`hb-${randomBytes(4).toString("hex")}`);
    const codeOf = async (res: Response) => [res.status, ((await res.json()) as { error: { code: string } }).error.code];
    expect(await codeOf(await beat(null))).toEqual([401, "NODE_CREDENTIAL_INVALID"]);
    expect(await codeOf(await beat("cmn_unknown"))).toEqual([401, "NODE_CREDENTIAL_INVALID"]);
    // A bad credential wins over a bad body; a good credential with a bad body is a 400.
    expect(await codeOf(await beat("cmn_unknown", { state: 1 }))).toEqual([401, "NODE_CREDENTIAL_INVALID"]);
    expect((await beat(credential, { state: 1 })).status).toBe(400);

    await db.node.update({ where: { id: nodeId }, data: { status: "REVOKED", revokedAt: new Date() } });
    const last = (await db.node.findUniqueOrThrow({ where: { id: nodeId } })).lastHeartbeatAt;
    expect(await codeOf(await beat(credential))).toEqual([401, "NODE_REVOKED"]);
    expect(await codeOf(await beat(credential, { state: 1 }))).toEqual([401, "NODE_REVOKED"]);
    expect((await db.node.findUniqueOrThrow({ where: { id: nodeId } })).lastHeartbeatAt).toEqual(last);
  });
});

describe("join", () => {
  it("gives hosts that join at once under the same name each a node of their own (a suffix, never an error)", async () => {
    const name = `twin-${randomBytes(3).toString("hex")}`;
    const tokens = await Promise.all(Array.from({ length: 6 }, () => createJoinToken(tenant.owner.ctx, { controlPlaneUrl: "http://localhost" })));
    const joined = await Promise.all(
      tokens.map((t, i) =>
        exchangeJoinToken(
          { token: t.token, name, hostname: `${name}.local`, version: "1.0.0", labels: {}, capabilities: { shmBytes: 1 << 30, ipcNamespace: "ipc:1", bootId: `boot-${i}`, platform: "linux", arch: "x64", cpus: 2 } },
          { requestId: `req-twin-${i}`, ip: "127.0.0.1", userAgent: "vitest" },
        ),
      ),
    );
    const names = joined.map((j) => j.name);
    expect(new Set(names).size).toBe(6);
    expect(names.filter((n) => n === name)).toHaveLength(1);
    for (const n of names) expect(n).toMatch(new RegExp(`^${name}(-[0-9a-f]{6})?$`));
    const rows = await db.node.findMany({ where: { tenantId: tenant.tenantId, name: { in: names } } });
    expect(rows.map((r) => r.id).sort()).toEqual(joined.map((j) => j.nodeId).sort());
  });
});

describe("file expired at its TTL (POST /api/worker/expired)", () => {
  function report(credential: string, payload: unknown): Promise<Response> {
    return expiredRoute.POST(
      new Request("http://localhost/api/worker/expired", { method: "POST", headers: { "content-type": "application/json", authorization: `Node ${credential}` }, body: JSON.stringify(payload) }),
    );
  }
  const expiredEvents = (tenantId: string, fileId: string) => db.auditEvent.findMany({ where: { tenantId, action: "file.expired", targetId: fileId } });

  it("is audited in the node's tenant as file.expired, with the TTL and how many attachments it closed", async () => {
    const { nodeId, credential } = await joinNode(`exp-${randomBytes(4).toString("hex")}`);
    const file = await createSharedFile(tenant.owner.ctx, { ...fileBody(`exp.${randomBytes(3).toString("hex")}`), ttlSeconds: 60 });
    const createdAt = new Date(Date.now() - 61_000).toISOString();
    const res = await report(credential, { sharedFileId: file.id, ttlSeconds: 60, mappingCreatedAt: createdAt, closedAttachments: ["att-1", "att-2"] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ recorded: true });
    const events = await expiredEvents(tenant.tenantId, file.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorType: "NODE", actorId: nodeId, outcome: "SUCCESS" });
    expect(events[0]!.after).toMatchObject({ name: file.name, nodeId, ttlSeconds: 60, mappingCreatedAt: createdAt, closedAttachments: 2 });
  });

  it("finds nothing of another tenant and records nothing there; bad bodies get field errors", async () => {
    const other = await createTestTenant();
    const theirs = await createSharedFile(other.owner.ctx, { ...fileBody(`exp.${randomBytes(3).toString("hex")}`), ttlSeconds: 5 });
    const { credential } = await joinNode(`exp-${randomBytes(4).toString("hex")}`);
    const res = await report(credential, { sharedFileId: theirs.id, ttlSeconds: 5, mappingCreatedAt: new Date().toISOString(), closedAttachments: [] });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    expect(await expiredEvents(other.tenantId, theirs.id)).toHaveLength(0);
    expect(await expiredEvents(tenant.tenantId, theirs.id)).toHaveLength(0);

    const bad = await report(credential, { sharedFileId: "", ttlSeconds: -1, mappingCreatedAt: "yesterday", closedAttachments: "x" });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { code: string; fields: Record<string, string[]> } };
    expect(body.error.code).toBe("VALIDATION_FAILED");
    expect(Object.keys(body.error.fields).sort()).toEqual(["closedAttachments", "mappingCreatedAt", "sharedFileId", "ttlSeconds"]);
  });
});
