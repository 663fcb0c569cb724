/**
 * Joining and node management against the real worker API handlers and PostgreSQL, with real
 * worker processes: join tokens are one-time and expire, heartbeats drive health, settings reach
 * running workers without restart, drain and revoke take effect.
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "~/server/db";
import { nodeHealth } from "~/server/contracts/node";
import { WORKER_API } from "~/server/contracts/worker";
import { createJoinToken, drainNode, revokeNode, rollbackWorkerSettings, updateWorkerSettings } from "~/server/services/node-join";
import { connect } from "../../worker/client/index";
import { createKey, createSharedFile, createTenant, eventually, fastSettings, joinedWorker, startControlPlane, startWorker, unique, type ControlPlane, type Tenant } from "./harness";

let cp: ControlPlane;
beforeAll(async () => {
  cp = await startControlPlane();
});
afterAll(async () => {
  await cp.close();
});

const capabilities = { shmBytes: 1, ipcNamespace: "1", bootId: "b", platform: "linux", arch: "x64", cpus: 2 };
async function postJoin(token: string) {
  return fetch(cp.url + WORKER_API.join, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token, hostname: "h1", version: "t", capabilities }) });
}

describe("join tokens", () => {
  it("a worker joins with a token, stores its credential 0600, and the token cannot be reused", async () => {
    const t = await createTenant();
    const token = await createJoinToken(t.ctx, { controlPlaneUrl: cp.url, labels: { zone: "a" } });
    expect(token.command).toContain(token.token);
    const w = await startWorker({ controlPlaneUrl: cp.url, joinToken: token.token, extraArgs: ["--label", "rack=r1"] });
    try {
      const node = await db.node.findUniqueOrThrow({ where: { id: w.nodeId } });
      expect(node.tenantId).toBe(t.tenantId);
      expect(node.labels).toEqual({ zone: "a", rack: "r1" });
      const caps = node.capabilities as Record<string, unknown>;
      expect(caps.bootId).toBe(readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
      expect(String(caps.ipcNamespace)).toMatch(/^\d+$/);
      const credFile = path.join(w.stateDir, "node.json");
      expect(statSync(credFile).mode & 0o777).toBe(0o600);
      expect(statSync(w.stateDir).mode & 0o777).toBe(0o700);
      // The join is audited, by the node.
      const audit = await db.auditEvent.findFirst({ where: { tenantId: t.tenantId, action: "node.joined" } });
      expect(audit?.actorType).toBe("NODE");
      expect(audit?.targetType).toBe("node");

      const reuse = await postJoin(token.token);
      expect(reuse.status).toBe(401);
      expect(((await reuse.json()) as { error: { message: string } }).error.message).toMatch(/already used or expired/);
    } finally {
      await w.stop();
    }
  });

  it("an expired token and a made-up token are refused", async () => {
    const t = await createTenant();
    const token = await createJoinToken(t.ctx, { controlPlaneUrl: cp.url });
    await db.nodeJoinToken.update({ where: { id: token.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await postJoin(token.token)).status).toBe(401);
    expect((await postJoin("cmj_" + "x".repeat(43))).status).toBe(401);
    // A worker with such a token fails to start with a clear message.
    await expect(startWorker({ controlPlaneUrl: cp.url, joinToken: token.token })).rejects.toThrow(/join token is invalid, already used or expired/);
  });

  it("two joins racing with one token: exactly one wins", async () => {
    const t = await createTenant();
    const token = await createJoinToken(t.ctx, { controlPlaneUrl: cp.url });
    const results = await Promise.all([postJoin(token.token), postJoin(token.token), postJoin(token.token)]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 401, 401]);
  });
});

describe("running node", () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await createTenant();
    await fastSettings(t);
  });

  it("heartbeats drive health: healthy while running, degraded then unresponsive after a SIGKILL", async () => {
    const w = await joinedWorker(cp, t);
    const health = async () => {
      const n = await db.node.findUniqueOrThrow({ where: { id: w.nodeId } });
      return nodeHealth(n.lastHeartbeatAt, n.heartbeatIntervalMs);
    };
    await eventually(async () => (await db.node.findUniqueOrThrow({ where: { id: w.nodeId } })).heartbeatIntervalMs === 1000, 5000, "interval from settings");
    await new Promise((r) => setTimeout(r, 1500));
    expect(await health()).toBe("healthy");
    await w.stop("SIGKILL");
    await eventually(async () => (await health()) === "degraded", 6000, "degraded");
    await eventually(async () => (await health()) === "unresponsive", 6000, "unresponsive");
  });

  it("settings changes reach a running worker within 5 s without restart, and rollback too", async () => {
    const w = await joinedWorker(cp, t);
    try {
      const metric = async () => {
        const text = await (await fetch(`http://127.0.0.1:${w.httpPort}/metrics`)).text();
        return Number(/^commy_worker_settings_version (\d+)/m.exec(text)?.[1] ?? -1);
      };
      const before = await metric();
      const updated = await updateWorkerSettings(t.ctx, { heartbeatIntervalMs: 1000, cataloguePollMs: 500, apiKeyCacheMs: 500, logLevel: "warn" });
      const started = Date.now();
      await eventually(async () => (await metric()) === updated.version, 5000, "new settings version applied");
      expect(Date.now() - started).toBeLessThan(5000);
      expect(updated.version).toBeGreaterThan(before);
      const rolled = await rollbackWorkerSettings(t.ctx, { version: before });
      await eventually(async () => (await metric()) === rolled.version, 5000, "rollback applied");
      const audit = await db.auditEvent.findMany({ where: { tenantId: t.tenantId, action: { in: ["settings.updated", "settings.rolled_back"] } } });
      expect(audit.length).toBeGreaterThanOrEqual(2);
      expect(audit.map((e) => e.targetType)).toEqual(audit.map(() => "workerSettings"));
      const health = (await (await fetch(`http://127.0.0.1:${w.httpPort}/healthz`)).json()) as { status: string };
      expect(health.status).toBe("running");
    } finally {
      await w.stop();
    }
  });

  it("drain: new sessions are refused with DRAINING, existing sessions stay connected; lifting it restores service", async () => {
    const w = await joinedWorker(cp, t);
    const key = await createKey(t.tenantId, ["data:write"]);
    try {
      const client = await connect({ socketPath: w.socketPath, apiKey: key.raw, reconnect: false });
      await drainNode(t.ctx, { nodeId: w.nodeId, drain: true });
      await eventually(async () => ((await (await fetch(`http://127.0.0.1:${w.httpPort}/healthz`)).json()) as { status: string }).status === "draining", 5000, "draining");
      await expect(connect({ socketPath: w.socketPath, apiKey: key.raw, reconnect: false })).rejects.toMatchObject({ code: "DRAINING" });
      expect(client.session).not.toBeNull();
      await drainNode(t.ctx, { nodeId: w.nodeId, drain: false });
      await eventually(async () => ((await (await fetch(`http://127.0.0.1:${w.httpPort}/healthz`)).json()) as { status: string }).status === "running", 5000, "running again");
      const again = await connect({ socketPath: w.socketPath, apiKey: key.raw, reconnect: false });
      await again.close();
      await client.close();
      expect(await db.auditEvent.count({ where: { tenantId: t.tenantId, action: "node.drained" } })).toBe(1);
    } finally {
      await w.stop();
    }
  });

  it("SIGTERM: stops accepting, lets attached clients finish, then exits 0 within the grace period", async () => {
    const token = await createJoinToken(t.ctx, { controlPlaneUrl: cp.url });
    const w = await startWorker({ controlPlaneUrl: cp.url, joinToken: token.token, extraArgs: ["--shutdown-grace-ms", "8000"] });
    const key = await createKey(t.tenantId, ["data:write"]);
    const f = await createSharedFile(t.tenantId, { name: unique("graceful"), kind: "VARIABLES" });
    const client = await connect({ socketPath: w.socketPath, apiKey: key.raw, reconnect: false });
    const h = await eventually(() => client.open(f.name, { side: "producer" }).catch(() => null), 5000, "open");
    w.child.kill("SIGTERM");
    const health = async () => {
      const r = await fetch(`http://127.0.0.1:${w.httpPort}/healthz`);
      return { status: r.status, body: (await r.json()) as { status: string } };
    };
    await eventually(async () => (await health()).body.status === "draining", 3000, "draining");
    expect((await health()).status).toBe(503);
    // New clients are refused while the attached one keeps working...
    await expect(connect({ socketPath: w.socketPath, apiKey: key.raw, reconnect: false })).rejects.toMatchObject({ retryable: true });
    (h as import("../../worker/client/index").VariablesHandle).write("a", "still works");
    // ...and once it detaches, the worker exits promptly, well before the 8 s grace period.
    const started = Date.now();
    await h.close();
    expect(await w.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(w.lines.some((l) => l.includes('"to":"stopped"'))).toBe(true);
    await client.close();
  });

  it("revoke: the credential stops working at once and the worker stops serving with a clear log line (exit 3)", async () => {
    const w = await joinedWorker(cp, t);
    const key = await createKey(t.tenantId, ["data:read"]);
    const client = await connect({ socketPath: w.socketPath, apiKey: key.raw, reconnect: false });
    const disconnected = new Promise((r) => client.once("disconnected", r));
    const cred = JSON.parse(readFileSync(path.join(w.stateDir, "node.json"), "utf8")) as { credential: string };
    await revokeNode(t.ctx, { nodeId: w.nodeId });
    const res = await fetch(cp.url + WORKER_API.catalogue, { headers: { authorization: `Node ${cred.credential}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("NODE_REVOKED");
    expect(await w.exited).toBe(3);
    await disconnected;
    expect(w.lines.some((l) => l.includes("NODE REVOKED"))).toBe(true);
    await client.close();
  });
});
