/**
 * Cross-tenant "cannot access" suite for Redis: tenant A's worker credentials work on A's
 * files and get NOPERM on every read and write of tenant B's keys.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RouteConsumer, RouteProducer, connectClient, createRedisClient, fileKeys, provisionTenantRedisUser, revokeTenantRedisUser,
  type RedisClient, type RedisTarget,
} from "../../routing";
import { startRedis, type TestRedis } from "../../routing/test-support/redis-server";
import { until } from "./helpers";

describe("tenant isolation with Redis ACL users", () => {
  let redis: TestRedis;
  let admin: RedisClient;
  let asA: RedisTarget;
  let clientA: RedisClient;
  const fileA = { tenantId: "acme", fileId: "orders" };
  const fileB = { tenantId: "acme2", fileId: "orders" }; // prefix of A's id + more: must not match A's pattern
  const fileB2 = { tenantId: "globex", fileId: "orders" };

  beforeAll(async () => {
    redis = await startRedis();
    admin = createRedisClient({ url: redis.url }, "admin");
    await connectClient(admin);
    const a = await provisionTenantRedisUser(admin, "acme", "secret-a");
    await provisionTenantRedisUser(admin, "acme2", "secret-b");
    await provisionTenantRedisUser(admin, "globex", "secret-c");
    asA = { url: redis.url, username: a.username, password: "secret-a" };
    clientA = createRedisClient(asA, "commands");
    await connectClient(clientA);
    // Tenant B has data.
    for (const f of [fileB, fileB2]) await admin.call("XADD", [fileKeys(f).stream, "*", "v", "1"]);
  });
  afterAll(async () => {
    clientA?.disconnect();
    admin?.disconnect();
    await redis?.stop();
  });

  it("tenant A's credentials route A's files end to end", async () => {
    const got: string[] = [];
    const consumer = new RouteConsumer({ redis: asA, file: fileA, nodeId: "a1", blockMs: 500, apply: (r) => void got.push(Buffer.from(r.payload).toString()) });
    await consumer.start();
    const producer = new RouteProducer({ redis: asA, nodeId: "a2" });
    await producer.start();
    producer.publish(fileA, Buffer.from("hello A"));
    await producer.flush();
    await until("A's record applied with A's credentials", () => got.length === 1);
    expect(got).toEqual(["hello A"]);
    await consumer.close();
    await producer.close();
  });

  it("tenant A cannot read or write tenant B's streams (NOPERM)", async () => {
    for (const f of [fileB, fileB2]) {
      const k = fileKeys(f);
      const attempts: [string, (string | number)[]][] = [
        ["XADD", [k.stream, "*", "v", "1"]],
        ["XRANGE", [k.stream, "-", "+"]],
        ["XREAD", ["STREAMS", k.stream, "0"]],
        ["XGROUP", ["CREATE", k.stream, "spy", "0"]],
        ["XLEN", [k.stream]],
        ["HSET", [k.applied("n1"), "last", "9-9"]],
        ["DEL", [k.stream]],
        ["EVAL", ["return redis.call('XRANGE', KEYS[1], '-', '+')", 1, k.stream]],
      ];
      for (const [cmd, args] of attempts) {
        await expect(clientA.call(cmd, args), `${cmd} on ${f.tenantId}`).rejects.toThrow(/NOPERM/);
      }
    }
    // Undeclared keys inside a script are refused too.
    await expect(clientA.call("EVAL", ["return redis.call('XLEN', 'commy:{t:globex:f:orders}:stream')", 0])).rejects.toThrow(/NOPERM|can't access at least one of the keys/);
    // No key discovery, no server administration.
    for (const [cmd, args] of [["KEYS", ["*"]], ["SCAN", [0]], ["FLUSHALL", []], ["CONFIG", ["GET", "*"]], ["ACL", ["LIST"]]] as [string, (string | number)[]][]) {
      await expect(clientA.call(cmd, args), cmd).rejects.toThrow(/NOPERM/);
    }
    // B's data is untouched.
    expect(Number(await admin.call("XLEN", [fileKeys(fileB).stream]))).toBe(1);
  });

  it("a RouteConsumer of tenant A pointed at tenant B's file fails to start with NOPERM", async () => {
    const spy = new RouteConsumer({ redis: asA, file: fileB2, nodeId: "spy", apply: () => undefined });
    await expect(spy.start()).rejects.toThrow(/NOPERM/);
    expect(spy.state).toBe("failed");
  });

  it("revoking the tenant's user cuts its access", async () => {
    await provisionTenantRedisUser(admin, "temp", "secret-t");
    const c = createRedisClient({ url: redis.url, username: "commy-t-temp", password: "secret-t" }, "commands");
    await connectClient(c);
    await c.call("XADD", [fileKeys({ tenantId: "temp", fileId: "f" }).stream, "*", "v", "1"]);
    // Redis drops every connection of a deleted user: the open one is closed by the server...
    const closed = new Promise<void>((resolve) => c.once("close", () => resolve()));
    await revokeTenantRedisUser(admin, "temp");
    await closed;
    c.disconnect();
    // ...and the credentials no longer authenticate a new one.
    const again = createRedisClient({ url: redis.url, username: "commy-t-temp", password: "secret-t" }, "commands");
    again.on("error", () => undefined);
    await expect(connectClient(again)).rejects.toThrow(/WRONGPASS/);
    again.disconnect();
  });
});
