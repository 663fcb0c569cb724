/**
 * Variable snapshots in Redis (`commy:{t:…:f:…}:vars`): the latest write per slot by HLC total
 * order, updated atomically with the XADD of each frame, readable without a local worker.
 * Runs against a standalone Redis (as a tenant ACL user) and a 3-master Cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  HybridLogicalClock, RouteProducer, compareStamps, connectClient, createRedisClient, fileKeys, parseSnapshotValue,
  provisionTenantRedisUser, readVariableSnapshot, readVariableSnapshots, variableSnapshotKey,
  type FileRef, type HlcStamp, type RedisClient, type RedisTarget,
} from "../../routing";
import { startRedis, startRedisCluster } from "../../routing/test-support/redis-server";
import { uniqueFile } from "./helpers";

interface Target {
  target: RedisTarget;
  stop(): Promise<void>;
}

function defineSnapshotSuite(label: string, setup: () => Promise<Target>, tenantId = "t1"): void {
  describe(`variable snapshots (${label})`, () => {
    let env: Target;
    let client: RedisClient;
    beforeAll(async () => {
      env = await setup();
      client = createRedisClient(env.target, "commands");
      await connectClient(client);
    });
    afterAll(async () => {
      client?.disconnect();
      await env?.stop();
    });

    it("uses the file's hash tag", () => {
      const f = { tenantId: "acme", fileId: "prices" };
      expect(variableSnapshotKey(f)).toBe("commy:{t:acme:f:prices}:vars");
      expect(variableSnapshotKey(f).startsWith(fileKeys(f).stream.replace(/:stream$/, ""))).toBe(true);
    });

    it("concurrent writers on several producers: the hash holds the max stamp per slot", async () => {
      const file = uniqueFile(tenantId);
      // Three producers with their own clocks and connections, all stuck at the same wall so the
      // counter and then the node id decide; n1 and n2 write slot "a" with explicit stamps equal
      // in (wall, counter), so the node id breaks the tie there.
      const clocks = ["n1", "n2", "n3"].map((id) => new HybridLogicalClock(id, { now: () => 1_000 }));
      const producers = clocks.map((clock) => new RouteProducer({ redis: env.target, nodeId: clock.nodeId, clock }));
      await Promise.all(producers.map((p) => p.start()));
      const written: { slot: string; stamp: HlcStamp; value: string }[] = [];
      await Promise.all(producers.map(async (p, pi) => {
        for (let round = 0; round < 60; round++) {
          for (const slot of ["a", "b", "c"]) {
            // n1 and n2 write slot "a" with explicit equal (wall, counter): node id decides.
            const stamp = slot === "a" && pi < 2 ? { wallMs: 2_000, counter: round, nodeId: p.nodeId } : undefined;
            const value = `${p.nodeId}:${slot}:${round}`;
            const s = p.writeVariable(file, slot, Buffer.from(value), stamp);
            written.push({ slot, stamp: s, value });
          }
          if (round % 7 === pi) await p.flush();
          else await new Promise((r) => setImmediate(r));
        }
        await p.flush();
      }));
      for (const slot of ["a", "b", "c"]) {
        const winner = written.filter((w) => w.slot === slot).reduce((m, w) => (compareStamps(w.stamp, m.stamp) > 0 ? w : m));
        const snap = await readVariableSnapshot(client, file, slot);
        expect(snap, slot).not.toBeNull();
        expect(Buffer.from(snap!.payload).toString()).toBe(winner.value);
        expect(snap!.stamp).toEqual(winner.stamp);
        expect(snap!.origin).toBe(winner.stamp.nodeId);
      }
      const all = await readVariableSnapshots(client, file);
      expect([...all.keys()].sort()).toEqual(["a", "b", "c"]);
      // "a": n1 and n2 tie on (2000, 59), n2 > n1 by bytes; "b"/"c": n3 ticked most (higher counter).
      expect(all.get("a")!.origin).toBe("n2");
      expect(all.get("c")!.origin).toBe("n3");
      await Promise.all(producers.map((p) => p.close()));
    });

    it("an older or equal stamp never replaces the value; a resent frame changes nothing", async () => {
      const file = uniqueFile(tenantId);
      const p = new RouteProducer({ redis: env.target, nodeId: "n5" });
      await p.start();
      p.writeVariable(file, "x", Buffer.from("new"), { wallMs: 5_000, counter: 2, nodeId: "n5" });
      await p.flush();
      p.writeVariable(file, "x", Buffer.from("older"), { wallMs: 5_000, counter: 1, nodeId: "n5" });
      p.writeVariable(file, "x", Buffer.from("same-stamp"), { wallMs: 5_000, counter: 2, nodeId: "n5" });
      await p.flush();
      const snap = await readVariableSnapshot(client, file, "x");
      expect(Buffer.from(snap!.payload).toString()).toBe("new");
      expect(snap!.stamp).toEqual({ wallMs: 5_000, counter: 2, nodeId: "n5" });
      expect(await readVariableSnapshot(client, file, "never-written")).toBeNull();
      // Stream messages do not touch the snapshot.
      p.publish(file, Buffer.from("msg"), "x");
      await p.flush();
      expect(Buffer.from((await readVariableSnapshot(client, file, "x"))!.payload).toString()).toBe("new");
      await p.close();
    });

    it("the value stays readable after the stream was trimmed to nothing", async () => {
      const file: FileRef = uniqueFile(tenantId);
      const p = new RouteProducer({ redis: env.target, nodeId: "n4", clock: new HybridLogicalClock("n4"), defaultPolicy: { retention: { maxLen: 1 } } });
      await p.start();
      const payload = Buffer.from([0, 1, 2, 0x3a, 255, 10]); // binary, with a ':' inside
      p.writeVariable(file, "blob", payload);
      await p.flush();
      for (let i = 0; i < 5; i++) {
        p.publish(file, Buffer.from(`m${i}`));
        await p.flush();
      }
      await client.call("XTRIM", [fileKeys(file).stream, "MAXLEN", 0]);
      expect(Number(await client.call("XLEN", [fileKeys(file).stream]))).toBe(0);
      const snap = await readVariableSnapshot(client, file, "blob");
      expect(Buffer.from(snap!.payload).equals(payload)).toBe(true);
      expect(snap!.origin).toBe("n4");
      await p.close();
    });
  });
}

defineSnapshotSuite("standalone Redis, tenant ACL user", async () => {
  const redis = await startRedis();
  const admin = createRedisClient({ url: redis.url }, "admin");
  await connectClient(admin);
  const { username } = await provisionTenantRedisUser(admin, "snapt", "secret-s");
  admin.disconnect();
  return { target: { url: redis.url, username, password: "secret-s" }, stop: () => redis.stop() };
}, "snapt");

defineSnapshotSuite("3-master Redis Cluster", async () => {
  const cluster = await startRedisCluster({ masters: 3 });
  return { target: { cluster: cluster.seeds }, stop: () => cluster.stop() };
});

describe("snapshot values", () => {
  it("refuse a malformed value", () => {
    expect(() => parseSnapshotValue(Buffer.from("2:1:1:n:x"))).toThrow(/malformed/);
    expect(() => parseSnapshotValue(Buffer.from("garbage"))).toThrow(/malformed/);
    expect(parseSnapshotValue(Buffer.from("1:12:3:node-a:")).payload.byteLength).toBe(0);
  });
});
