/**
 * Routing through real workers under faults and special preferences (standalone Redis, AOF on):
 * LOCAL_ONLY refusal, NETWORK_ONLY for co-located clients, control plane down, SIGKILL of a
 * worker mid-stream, Redis restart, partition and heal, node revocation.
 * No timed assertions: every wait polls for a state, the timeouts only bound a hang.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exactlyOnce, remotePeers, routeOf, waitReceived } from "./fixtures/worker-suite";
import { health, startRoutingEnv, until, type RoutingEnv } from "./fixtures/worker-env";
import type { WorkerProcess } from "../worker/harness";

describe("routing workers under faults", () => {
  let env: RoutingEnv;
  let a: WorkerProcess;
  let b: WorkerProcess;

  beforeAll(async () => {
    env = await startRoutingEnv();
    [a, b] = await Promise.all([env.worker("a"), env.worker("b")]);
  });
  afterAll(async () => {
    await env?.close();
  });

  it("LOCAL_ONLY: an attachment on another host is refused with a clear error", async () => {
    const f = await env.file({ kind: "STREAM", transportPreference: "LOCAL_ONLY" });
    const [ca, cb] = await Promise.all([env.client(a), env.client(b)]);
    const opened = await ca.open(f.name, "consumer");
    expect(opened.transport).toBe("SHARED_MEMORY");
    await until("A's presence is published", async () => {
      return (await env.cli("HGETALL", `commy:{t:${env.tenant.tenantId}:f:${f.id}}:presence`)).includes(a.nodeId);
    });
    const err = await cb.open(f.name, "producer").then(() => null, (e: Error & { code?: string }) => e);
    expect(err?.code).toBe("TRANSPORT_UNAVAILABLE");
    expect(err?.message).toMatch(/local-only/);
    expect(err?.message).toContain(a.nodeId);
    await Promise.all([ca.kill(), cb.kill()]);
  });

  it("NETWORK_ONLY: co-located producer and consumer still go through Redis", async () => {
    const f = await env.file({ kind: "STREAM", transportPreference: "NETWORK_ONLY" });
    const [sub, pub] = await Promise.all([env.client(a), env.client(a)]);
    await sub.open(f.name, "consumer");
    await sub.subscribe();
    const opened = await pub.open(f.name, "producer");
    expect(opened.transport).toBe("NETWORK");
    expect(opened.reason).toMatch(/network-only/);
    await pub.publish("n", 0, 50);
    await until("50 messages through Redis", async () => (await sub.received()).length >= 50);
    exactlyOnce(await sub.received(), "n", 50);
    const key = `commy:{t:${env.tenant.tenantId}:f:${f.id}}:stream`;
    expect(Number(await env.cli("XLEN", key))).toBeGreaterThan(0);
    await until("route reported", async () => !!routeOf(await health(a), f.id));
    expect(routeOf(await health(a), f.id)?.reasonCode).toBe("NETWORK_ONLY_PREFERENCE");
    await Promise.all([sub.kill(), pub.kill()]);
  });

  it("control plane down: the data path keeps working both ways", async () => {
    const f = await env.file({ kind: "STREAM" });
    const [subA, pubB, subB, pubA] = await Promise.all([env.client(a), env.client(b), env.client(b), env.client(a)]);
    await subA.open(f.name, "consumer");
    await subA.subscribe();
    await subB.open(f.name, "consumer");
    await subB.subscribe();
    await pubB.open(f.name, "producer");
    await pubA.open(f.name, "producer");
    await remotePeers(a, f.id, 2);
    await remotePeers(b, f.id, 2);
    env.cp.down = true;
    try {
      await Promise.all([pubA.publish("a", 0, 100), pubB.publish("b", 0, 100)]);
      for (const s of [subA, subB]) await until("200 messages with the control plane down", async () => (await s.received()).length >= 200);
      for (const s of [subA, subB]) {
        exactlyOnce(await s.received(), "a", 100);
        exactlyOnce(await s.received(), "b", 100);
      }
    } finally {
      env.cp.down = false;
    }
    await Promise.all([subA, pubB, subB, pubA].map((c) => c.kill()));
  });

  /** The stream's frames, summarized (origin epoch, seq, count, message numbers): failure diagnostics. */
  async function streamSummary(fileId: string): Promise<string> {
    const { createRedisClient, connectClient, decodeFrame, fileKeys } = await import("../../routing");
    const c = createRedisClient({ url: env.redis!.url }, "commands");
    await connectClient(c);
    try {
      const rows = (await c.callBuffer("XRANGE", [fileKeys({ tenantId: env.tenant.tenantId, fileId }).stream, "-", "+"])) as [Buffer, Buffer[]][];
      return rows
        .map(([id, fields]) => {
          const recs = decodeFrame(id.toString(), fields);
          const ns = recs.map((r) => (JSON.parse(Buffer.from(r.payload).toString()) as { n: number }).n);
          return `${recs[0]?.epoch}:${recs[0]?.seq}+${recs.length}=[${ns[0]}..${ns[ns.length - 1]}]`;
        })
        .join(" ");
    } finally {
      c.disconnect();
    }
  }

  // The receiving worker dies between appending a remote message and recording it (the apply
  // journal's crash window) or anywhere else in its loop; the sending one between reading its
  // ring and Redis confirming. Several kills per run, at different points of the stream.
  it.each([
    ["receiving", "k", "b"],
    ["sending", "s", "a"],
  ] as const)("SIGKILL of the %s worker mid-stream, three times, each followed by a restart: nothing lost, nothing duplicated", async (_side, tag, host) => {
    const f = await env.file({ kind: "STREAM" });
    const [sub, pub] = await Promise.all([env.client(b), env.client(a)]);
    await sub.open(f.name, "consumer");
    await sub.subscribe();
    await pub.open(f.name, "producer");
    await remotePeers(a, f.id, 1);
    const total = 3000;
    const publishing = pub.publish(tag, 0, total, 2);
    for (const atLeast of [100, 900, 1700]) {
      await until(`${atLeast} messages arrived`, async () => (await sub.received()).length >= atLeast);
      if (host === "a") {
        await a.stop("SIGKILL");
        a = await env.restartWorker(a, "a");
      } else {
        await b.stop("SIGKILL");
        b = await env.restartWorker(b, "b");
      }
    }
    await publishing;
    await waitReceived(sub, total, `all ${total} after the restarts`, [a, b]).catch(async (e: Error) => {
      throw new Error(`${e.message}\nstream: ${await streamSummary(f.id)}`);
    });
    exactlyOnce(await sub.received(), tag, total);
    await Promise.all([sub.kill(), pub.kill()]);
  });

  it("routing configured late (its endpoint failing at start-up): streams opened before it are routed once it arrives", async () => {
    env.cp.unavailable.add("/api/worker/routing");
    const [c, d] = await Promise.all([env.worker("c"), env.worker("d")]);
    const f = await env.file({ kind: "STREAM" });
    const [subC, pubC, subD, pubD] = await Promise.all([env.client(c), env.client(c), env.client(d), env.client(d)]);
    for (const [sub, pub] of [[subC, pubC], [subD, pubD]] as const) {
      await sub.open(f.name, "consumer");
      await sub.subscribe();
      expect((await pub.open(f.name, "producer")).transport).toBe("SHARED_MEMORY"); // no routing yet
    }
    env.cp.unavailable.delete("/api/worker/routing");
    await remotePeers(c, f.id, 2, [d]);
    await remotePeers(d, f.id, 2, [c]);
    await Promise.all([pubC.publish("c", 0, 100), pubD.publish("d", 0, 100)]);
    await waitReceived(subC, 200, "c's subscriber gets both hosts' messages", [c, d]);
    await waitReceived(subD, 200, "d's subscriber gets both hosts' messages", [c, d]);
    for (const sub of [subC, subD]) {
      const got = await sub.received();
      exactlyOnce(got, "c", 100);
      exactlyOnce(got, "d", 100);
    }
    await Promise.all([subC.kill(), pubC.kill(), subD.kill(), pubD.kill()]);
    await Promise.all([c.stop("SIGKILL"), d.stop("SIGKILL")]);
  });

  it("partition (Redis stopped) and heal: local traffic continues, remote peers degraded, backlog delivered (durable file)", async () => {
    const f = await env.file({ kind: "STREAM", durability: "DURABLE" });
    const [localSub, remoteSub, pub] = await Promise.all([env.client(a), env.client(b), env.client(a)]);
    await localSub.open(f.name, "consumer");
    await localSub.subscribe();
    await remoteSub.open(f.name, "consumer");
    await remoteSub.subscribe();
    await pub.open(f.name, "producer");
    await remotePeers(a, f.id, 1);
    await pub.publish("p", 0, 50);
    await until("first 50 remote", async () => (await remoteSub.received()).length >= 50);

    await env.redis!.stop();
    try {
      await until("A notices Redis is down", async () => (await health(a)).routing?.redisUp === false);
      await pub.publish("p", 50, 150);
      await until("local subscriber keeps receiving", async () => (await localSub.received()).length >= 200);
      await until("remote peers reported degraded", async () => {
        const r = routeOf(await health(a), f.id);
        return r?.status === "degraded" && r.reasonCode === "REDIS_DOWN_LOCAL_CONTINUES";
      });
      expect((await remoteSub.received()).length).toBeLessThan(200);
    } finally {
      await env.redis!.start();
    }
    await until("backlog delivered after the heal", async () => (await remoteSub.received()).length >= 200, 120_000);
    exactlyOnce(await remoteSub.received(), "p", 200);
    exactlyOnce(await localSub.received(), "p", 200);
    await Promise.all([localSub.kill(), remoteSub.kill(), pub.kill()]);
  });

  it("Redis restart with AOF: routing resumes (credentials and groups kept)", async () => {
    const f = await env.file({ kind: "STREAM", durability: "DURABLE" });
    const [sub, pub] = await Promise.all([env.client(b), env.client(a)]);
    await sub.open(f.name, "consumer");
    await sub.subscribe();
    await pub.open(f.name, "producer");
    await remotePeers(a, f.id, 1);
    await pub.publish("r", 0, 100);
    await until("100 before the restart", async () => (await sub.received()).length >= 100);
    await env.redis!.restart();
    await until("A reconnected", async () => (await health(a)).routing?.redisUp === true);
    await pub.publish("r", 100, 100);
    await waitReceived(sub, 200, "200 after the restart", [a, b]);
    exactlyOnce(await sub.received(), "r", 200);
    await Promise.all([sub.kill(), pub.kill()]);
  });

  it("revoking a node deletes its Redis user: its connections drop and its credentials stop working", async () => {
    const w = await env.worker("revoked");
    const { readFileSync } = await import("node:fs");
    const cfg = JSON.parse(readFileSync(`${w.stateDir}/routing.json`, "utf8")) as { redis: { url: string; username: string; password: string } };
    expect(await env.cli("ACL", "LIST")).toContain(cfg.redis.username);
    const { revokeNode } = await import("~/server/services/node-join");
    await revokeNode(env.tenant.ctx, { nodeId: w.nodeId });
    expect(await env.cli("ACL", "LIST")).not.toContain(cfg.redis.username);
    const { createRedisClient, connectClient } = await import("../../routing");
    const c = createRedisClient({ url: cfg.redis.url, username: cfg.redis.username, password: cfg.redis.password }, "commands");
    c.on("error", () => undefined);
    await expect(connectClient(c)).rejects.toThrow(/WRONGPASS|invalid username-password|NOAUTH/i);
    c.disconnect();
    // The revoked worker itself stops (exit code 3) once the control plane refuses it.
    expect(await w.exited).toBe(3);
  });
});
