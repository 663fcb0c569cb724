/**
 * The routing suite that must pass against both a standalone Redis and a 3-master Redis
 * Cluster: nodes in separate processes exchanging messages and variables, crash recovery,
 * queue distribution, convergence, dead-lettering and replay.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RouteConsumer, RouteProducer, compareStreamIds, createRedisClient, connectClient, encodeBody, fileKeys, frameFields,
  readDeadLetters, type RedisTarget, type RoutedRecord,
} from "../../routing";
import { NodeProcess, readLog, uniqueFile, until, type LogLine } from "./helpers";

export interface SuiteTarget {
  target: RedisTarget;
  stop(): Promise<void>;
}

function keyOf(l: LogLine): string {
  return `${l.o}/${l.e}/${l.s}`;
}

function expectNoDuplicates(lines: LogLine[]): void {
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const l of lines) {
    const k = keyOf(l);
    if (seen.has(k)) dups.push(k);
    seen.add(k);
  }
  expect(dups).toEqual([]);
}

export function defineCoreSuite(label: string, setup: () => Promise<SuiteTarget>): void {
  describe(`routing core (${label})`, () => {
    let env: SuiteTarget;
    let dir: string;
    const nodes: NodeProcess[] = [];
    const spawn = async (cfg: Omit<ConstructorParameters<typeof NodeProcess>[0], "redis">) => {
      const n = await NodeProcess.start({ ...cfg, redis: env.target });
      nodes.push(n);
      return n;
    };

    beforeAll(async () => {
      env = await setup();
      dir = mkdtempSync(path.join(tmpdir(), "commy-routing-"));
    });
    afterAll(async () => {
      await Promise.all(nodes.map((n) => n.close().catch(() => n.kill())));
      await env?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("two nodes in separate processes exchange stream messages both ways, in order, never their own", async () => {
      const file = uniqueFile();
      const a = await spawn({ nodeId: "nodeA", file, logFile: path.join(dir, "a.log"), consume: true, produce: true });
      const b = await spawn({ nodeId: "nodeB", file, logFile: path.join(dir, "b.log"), consume: true, produce: true });
      await Promise.all([a.publish(2000, "from-a-", 100), b.publish(2000, "from-b-", 100)]);
      await until("B applied A's 2000 and A applied B's 2000", () =>
        readLog(a.cfg.logFile).length >= 2000 && readLog(b.cfg.logFile).length >= 2000);
      const atA = readLog(a.cfg.logFile);
      const atB = readLog(b.cfg.logFile);
      expect(atA.map((l) => l.p)).toEqual(Array.from({ length: 2000 }, (_, i) => `from-b-${i}`));
      expect(atB.map((l) => l.p)).toEqual(Array.from({ length: 2000 }, (_, i) => `from-a-${i}`));
      expect(atA.every((l) => l.o === "nodeB")).toBe(true);
      await Promise.all([a.close(), b.close()]);
    });

    it("SIGKILL of a consumer mid-stream, then restart: nothing lost, nothing applied twice", async () => {
      const file = uniqueFile();
      const log = path.join(dir, "kill.log");
      const producer = await spawn({ nodeId: "prod", file, logFile: path.join(dir, "prod.log"), produce: true });
      const cfg = { nodeId: "victim", file, logFile: log, consume: true, stateFromLog: true, applyDelayMs: 1 };
      let victim = await spawn(cfg);
      await producer.publish(3000, "m", 50);
      await producer.flush();
      await until("victim applied some records", () => readLog(log).length >= 300);
      await victim.kill();
      const before = readLog(log).length;
      expect(before).toBeLessThan(3000); // the kill landed mid-stream
      victim = await spawn({ ...cfg, applyDelayMs: 0 });
      await until("restarted victim caught up", () => readLog(log).length >= 3000);
      await victim.close();
      const lines = readLog(log);
      expectNoDuplicates(lines);
      expect(lines.map((l) => l.p)).toEqual(Array.from({ length: 3000 }, (_, i) => `m${i}`));
    });

    it("queue pattern: each message goes to exactly one consumer across nodes", async () => {
      const file = uniqueFile();
      const producer = await spawn({ nodeId: "qprod", file, logFile: path.join(dir, "qp.log"), produce: true });
      const c1 = await spawn({ nodeId: "q1", file, logFile: path.join(dir, "q1.log"), consume: true, pattern: "queue", applyDelayMs: 1 });
      const c2 = await spawn({ nodeId: "q2", file, logFile: path.join(dir, "q2.log"), consume: true, pattern: "queue", applyDelayMs: 1 });
      // Small chunks spread over time so both consumers get a share.
      await producer.publish(2000, "job", 10);
      await producer.flush();
      await until("all 2000 jobs consumed", () => readLog(c1.cfg.logFile).length + readLog(c2.cfg.logFile).length >= 2000);
      await Promise.all([c1.close(), c2.close()]);
      const l1 = readLog(c1.cfg.logFile);
      const l2 = readLog(c2.cfg.logFile);
      const all = [...l1, ...l2].map((l) => l.p).sort();
      expect(all).toEqual(Array.from({ length: 2000 }, (_, i) => `job${i}`).sort());
      expect(l1.length).toBeGreaterThan(0);
      expect(l2.length).toBeGreaterThan(0);
    });

    it("variables converge on 3 nodes under concurrent writers (HLC + node id, last writer wins)", async () => {
      const file = uniqueFile();
      const ns = await Promise.all(["v1", "v2", "v3"].map((id) =>
        spawn({ nodeId: id, file, logFile: path.join(dir, `${id}.log`), consume: true, produce: true })));
      // Every node writes every slot, interleaved, concurrently.
      await Promise.all(ns.map(async (n, ni) => {
        for (let round = 0; round < 50; round++) {
          await Promise.all(["x", "y", "z"].map((slot) => n.write(slot, `${n.cfg.nodeId}:${slot}:${round}`)));
          if (round % 10 === ni) await new Promise((r) => setTimeout(r, 1));
        }
        await n.flush();
      }));
      let views: Record<string, { value: string; stamp: string }>[] = [];
      await until("all three nodes hold the same value and stamp for every slot", async () => {
        views = await Promise.all(ns.map((n) => n.vars()));
        return ["x", "y", "z"].every((s) => views.every((v) => v[s] && v[s]!.stamp === views[0]![s]?.stamp));
      });
      for (const s of ["x", "y", "z"]) {
        expect(new Set(views.map((v) => v[s]!.value)).size).toBe(1);
        // The winner is one of the last writes of some node (round 49).
        expect(views[0]![s]!.value).toMatch(new RegExp(`^v[123]:${s}:49$`));
      }
      await Promise.all(ns.map((n) => n.close()));
    });

    it("a record that fails to apply N times goes to the dead-letter stream with its error; order is kept", async () => {
      const file = uniqueFile();
      const applied: string[] = [];
      let failures = 0;
      const consumer = new RouteConsumer({
        redis: env.target, file, nodeId: "dlqnode", maxAttempts: 3, retryDelayMs: 1, blockMs: 500,
        apply: (r: RoutedRecord) => {
          const p = Buffer.from(r.payload).toString();
          if (p === "poison") {
            failures++;
            throw new Error("cannot apply poison");
          }
          applied.push(p);
        },
      });
      await consumer.start();
      const producer = new RouteProducer({ redis: env.target, nodeId: "dlqprod" });
      await producer.start();
      for (const p of ["a", "b", "poison", "c"]) producer.publish(file, Buffer.from(p));
      await producer.flush();
      await until("c applied", () => applied.includes("c"));
      expect(applied).toEqual(["a", "b", "c"]);
      expect(failures).toBe(3);
      const admin = createRedisClient(env.target, "admin");
      await connectClient(admin);
      const dl = await readDeadLetters(admin, file);
      expect(dl).toHaveLength(1);
      expect(dl[0]!.fields.err).toBe("cannot apply poison");
      expect(dl[0]!.fields.a).toBe("3");
      expect(dl[0]!.fields.p).toBe("poison");
      expect(consumer.stats().deadLettered).toBe(1);
      admin.disconnect();
      await consumer.close();
      await producer.close();
    });

    it("entries of format version 1 left in a stream by an older producer are applied, in order, with the new ones", async () => {
      const file = uniqueFile();
      const seen: RoutedRecord[] = [];
      const consumer = new RouteConsumer({ redis: env.target, file, nodeId: "mixed", blockMs: 500, startId: "0", apply: (r) => void seen.push(r) });
      const admin = createRedisClient(env.target, "admin");
      await connectClient(admin);
      const v1 = frameFields({ origin: "oldprod", epoch: "e1", firstSeq: 1, count: 2, sentAt: Date.now() }, encodeBody([
        { kind: "message", name: "", payload: Buffer.from("v1-a") },
        { kind: "message", name: "", payload: Buffer.from("v1-b") },
      ]));
      await admin.call("XADD", [fileKeys(file).stream, "*", ...v1]);
      await consumer.start();
      const producer = new RouteProducer({ redis: env.target, nodeId: "newprod" });
      await producer.start();
      producer.publish(file, Buffer.from("v2-a"));
      await producer.flush();
      await until("3 applied", () => seen.length >= 3);
      expect(seen.map((r) => [r.origin, r.seq, Buffer.from(r.payload).toString()])).toEqual([["oldprod", 1, "v1-a"], ["oldprod", 2, "v1-b"], ["newprod", 1, "v2-a"]]);
      const entries = (await admin.call("XRANGE", [fileKeys(file).stream, "-", "+"])) as [string, string[]][];
      expect(entries.map(([, f]) => f.length)).toEqual([14, 2]); // the new producer writes one field per entry
      admin.disconnect();
      await consumer.close();
      await producer.close();
    });

    it("replay from an id re-delivers the retained records from that id on", async () => {
      const file = uniqueFile();
      const seen: RoutedRecord[] = [];
      const consumer = new RouteConsumer({ redis: env.target, file, nodeId: "rep", blockMs: 500, apply: (r) => void seen.push(r) });
      await consumer.start();
      const producer = new RouteProducer({ redis: env.target, nodeId: "repprod" });
      await producer.start();
      for (let i = 0; i < 10; i++) {
        producer.publish(file, Buffer.from(`r${i}`));
        await producer.flush(); // one frame each, so each record has its own stream id
      }
      await until("10 applied", () => seen.length >= 10);
      const fromId = seen[4]!.streamId;
      const replayed: string[] = [];
      const n = await consumer.replay(fromId, { handler: (r) => void replayed.push(Buffer.from(r.payload).toString()) });
      expect(n).toBe(6);
      expect(replayed).toEqual(["r4", "r5", "r6", "r7", "r8", "r9"]);
      // Replay does not disturb live delivery.
      producer.publish(file, Buffer.from("after"));
      await until("live record after replay", () => seen.some((r) => Buffer.from(r.payload).toString() === "after"));
      expect(seen.map((r) => r.streamId).every((id, i, a) => i === 0 || compareStreamIds(a[i - 1]!, id) < 0)).toBe(true);
      await consumer.close();
      await producer.close();
    });
  });
}
