/**
 * Faults against a standalone Redis: restart with AOF, partition and heal (backlog delivered
 * for durable files, dropped and reported for the others), bounded backlog, bounded retention.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RouteConsumer, RouteProducer, connectClient, createRedisClient, isRoutingError,
  type ProducerEvent, type RoutedRecord,
} from "../../routing";
import { startRedis, type TestRedis } from "../../routing/test-support/redis-server";
import { uniqueFile, until } from "./helpers";

const text = (r: RoutedRecord) => Buffer.from(r.payload).toString();
const range = (n: number, p: string, from = 0) => Array.from({ length: n }, (_, i) => `${p}${i + from}`);

describe("routing faults (standalone Redis, AOF on)", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis({ aof: true });
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("Redis restart with AOF: groups and applied state survive, delivery resumes with nothing lost or repeated", async () => {
    const file = uniqueFile();
    const got: string[] = [];
    const events: string[] = [];
    const consumer = new RouteConsumer({
      redis: { url: redis.url }, file, nodeId: "aofc", blockMs: 500,
      apply: (r) => void got.push(text(r)), onEvent: (e) => void events.push(e.type),
    });
    await consumer.start();
    const producer = new RouteProducer({ redis: { url: redis.url }, nodeId: "aofp" });
    await producer.start();
    for (const m of range(500, "a")) producer.publish(file, Buffer.from(m));
    await producer.flush();
    await until("first 500 applied", () => got.length >= 500);
    await redis.restart();
    for (const m of range(500, "a", 500)) producer.publish(file, Buffer.from(m));
    await producer.flush();
    await until("all 1000 applied", () => got.length >= 1000);
    expect(got).toEqual(range(1000, "a"));
    expect(events).not.toContain("group-recreated");
    await consumer.close();
    await producer.close();
  });

  it("partition and heal: the durable backlog is delivered in order; a non-durable file's writes are dropped and reported", async () => {
    const durable = uniqueFile();
    const volatile = uniqueFile();
    const got: string[] = [];
    const gotVolatile: string[] = [];
    const consumer = new RouteConsumer({ redis: { url: redis.url }, file: durable, nodeId: "pc", blockMs: 500, apply: (r) => void got.push(text(r)) });
    const consumerV = new RouteConsumer({ redis: { url: redis.url }, file: volatile, nodeId: "pc", blockMs: 500, apply: (r) => void gotVolatile.push(text(r)) });
    await consumer.start();
    await consumerV.start();
    const events: ProducerEvent[] = [];
    const producer = new RouteProducer({ redis: { url: redis.url }, nodeId: "pp", onEvent: (e) => void events.push(e) });
    await producer.start();
    producer.configureFile(volatile, { durable: false });
    for (const m of range(100, "d")) producer.publish(durable, Buffer.from(m));
    await producer.flush();
    await until("pre-partition records applied", () => got.length >= 100);

    await redis.stop(); // partition: Redis unreachable
    await until("producer noticed Redis is down", () => !producer.stats().healthy);
    for (const m of range(1000, "d", 100)) producer.publish(durable, Buffer.from(m));
    for (const m of range(10, "v")) producer.publish(volatile, Buffer.from(m));
    expect(producer.stats().backlogRecords).toBe(1000);
    expect(producer.stats().dropped).toBe(10);
    expect(events.some((e) => e.type === "dropped")).toBe(true);

    await redis.start(); // heal
    await producer.flush();
    await until("backlog delivered", () => got.length >= 1100);
    expect(got).toEqual(range(1100, "d"));
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["down", "up"]));
    expect(producer.stats().backlogRecords).toBe(0);
    expect(gotVolatile).toEqual([]);
    await Promise.all([consumer.close(), consumerV.close()]);
    await producer.close();
  });

  it("close() while Redis is down returns at once, though the blocking read was in flight when the connection dropped", async () => {
    const consumer = new RouteConsumer({ redis: { url: redis.url }, file: uniqueFile(), nodeId: "cd", blockMs: 5000, apply: () => undefined });
    await consumer.start();
    await new Promise((r) => setTimeout(r, 50)); // the XREADGROUP is sent and blocks
    await redis.stop();
    // ioredis keeps the unanswered read to re-send it after reconnecting; closing within the
    // reconnect delay must still end the consumer, not leave it waiting for a reply that
    // cannot come (before the fix: ROUTE_CLOSE_TIMEOUT after the grace period).
    await expect(consumer.close(3000)).resolves.toBeUndefined();
    expect(consumer.state).toBe("closed");
    await redis.start();
  });

  it("the backlog is bounded: a full backlog refuses records with ROUTE_BACKLOG_FULL while Redis is down", async () => {
    const file = uniqueFile();
    const overflow: ProducerEvent[] = [];
    const producer = new RouteProducer({
      redis: { url: redis.url }, nodeId: "bp", maxBacklogRecords: 50,
      onEvent: (e) => void (e.type === "overflow" && overflow.push(e)),
    });
    await producer.start();
    await redis.stop();
    await until("producer noticed Redis is down", async () => {
      producer.publish(file, Buffer.from("probe"));
      await new Promise((r) => setTimeout(r, 20));
      return !producer.stats().healthy;
    });
    let refused: unknown;
    try {
      for (let i = 0; i < 100; i++) producer.publish(file, Buffer.from(`x${i}`));
    } catch (e) {
      refused = e;
    }
    expect(isRoutingError(refused, "ROUTE_BACKLOG_FULL")).toBe(true);
    expect(producer.stats().backlogRecords).toBe(50);
    expect(overflow).toHaveLength(1);
    await redis.start();
    await producer.flush();
    expect(producer.stats().backlogRecords).toBe(0);
    await producer.close();
  });

  it("retention is bounded per file (MAXLEN ~)", async () => {
    const file = uniqueFile();
    const producer = new RouteProducer({ redis: { url: redis.url }, nodeId: "rp" });
    await producer.start();
    producer.configureFile(file, { retention: { maxLen: 100 } });
    for (let i = 0; i < 2000; i++) {
      producer.publish(file, Buffer.from(`r${i}`));
      if (i % 4 === 0) await producer.flush(); // many small frames
    }
    await producer.flush();
    const admin = createRedisClient({ url: redis.url }, "admin");
    await connectClient(admin);
    const len = Number(await admin.call("XLEN", [`commy:{t:${file.tenantId}:f:${file.fileId}}:stream`]));
    expect(producer.stats().sentFrames).toBeGreaterThan(400);
    expect(len).toBeGreaterThan(0);
    expect(len).toBeLessThanOrEqual(200); // ~ trims whole macro nodes (100 entries each)
    admin.disconnect();
    await producer.close();
  });
});
