/**
 * Queue-pattern files across nodes (docs/spec/redis-routing.md 6.2, "Queue files"): real workers
 * as separate hosts, producers on one, consumer-group members on both. Each message must be
 * consumed exactly once in total — never on both nodes — including across the moment the first
 * remote consumer appears. No timed assertions: every wait polls for a state.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { remotePeers } from "./fixtures/worker-suite";
import { startRoutingEnv, until, type RoutingEnv, type TestClient } from "./fixtures/worker-env";
import type { WorkerProcess } from "../worker/harness";

/** Message numbers of `tag` consumed by all the members together. */
async function consumed(members: TestClient[], tag: string): Promise<number[][]> {
  return Promise.all(members.map(async (m) => (await m.received()).filter((x) => x.tag === tag).map((x) => x.n)));
}

function expectEachOnce(perMember: number[][], total: number): void {
  const all = perMember.flat().sort((x, y) => x - y);
  expect(all.length, "messages consumed in total (a message consumed on two nodes counts twice)").toBe(total);
  expect(all).toEqual(Array.from({ length: total }, (_, i) => i));
}

describe("queue files across nodes", () => {
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

  /** Message numbers in the file's Redis stream (what went through the shared group). */
  async function inRedis(fileId: string): Promise<number[]> {
    const { createRedisClient, connectClient, decodeFrame, fileKeys } = await import("../../routing");
    const c = createRedisClient({ url: env.redis!.url }, "commands");
    await connectClient(c);
    try {
      const rows = (await c.callBuffer("XRANGE", [fileKeys({ tenantId: env.tenant.tenantId, fileId }).stream, "-", "+"])) as [Buffer, Buffer[]][];
      return rows.flatMap(([id, fields]) => decodeFrame(id.toString(), fields).map((r) => (JSON.parse(Buffer.from(r.payload).toString()) as { n: number }).n));
    } finally {
      c.disconnect();
    }
  }

  it("producers on A, group members on A and B: every message consumed exactly once in total, on both nodes", async () => {
    const f = await env.file({ kind: "STREAM", pattern: "QUEUE" });
    const [onA, onB, pub] = await Promise.all([env.client(a), env.client(b), env.client(a)]);
    await onA.open(f.name, "consumer", undefined, "workers");
    await onB.open(f.name, "consumer", undefined, "workers");
    await Promise.all([onA.consume(), onB.consume()]);
    await pub.open(f.name, "producer");
    await remotePeers(a, f.id, 1); // A knows B's consumer: its producers' messages go to the group
    const total = 600;
    await pub.publish("q", 0, total, 2);
    await until(`${total} consumed in total`, async () => (await consumed([onA, onB], "q")).flat().length >= total);
    await new Promise((r) => setTimeout(r, 1000)); // a message consumed twice would show up by now
    const [gotA, gotB] = await consumed([onA, onB], "q");
    expectEachOnce([gotA!, gotB!], total);
    expect(gotA!.length, "consumed on A").toBeGreaterThan(0);
    expect(gotB!.length, "consumed on B").toBeGreaterThan(0);
    expect((await inRedis(f.id)).length).toBeGreaterThan(0);
    await Promise.all([onA, onB, pub].map((c) => c.kill()));
  });

  it("the first remote consumer appears mid-stream: before it the queue stays on A (nothing in Redis), after it messages are shared; none lost, none twice", async () => {
    const f = await env.file({ kind: "STREAM", pattern: "QUEUE" });
    const [onA, onB, pub] = await Promise.all([env.client(a), env.client(b), env.client(a)]);
    await onA.open(f.name, "consumer", undefined, "workers");
    await onA.consume();
    await pub.open(f.name, "producer");
    const total = 2000;
    const publishing = pub.publish("s", 0, total, 2);
    await until("A consumes on its own", async () => (await consumed([onA], "s")).flat().length >= 200);
    await onB.open(f.name, "consumer", undefined, "workers");
    await onB.consume();
    await publishing;
    await until(`${total} consumed in total`, async () => (await consumed([onA, onB], "s")).flat().length >= total);
    await new Promise((r) => setTimeout(r, 1000));
    const [gotA, gotB] = await consumed([onA, onB], "s");
    expectEachOnce([gotA!, gotB!], total);
    expect(gotB!.length, "B got a share once it was there").toBeGreaterThan(0);
    const redis = await inRedis(f.id);
    // The messages before the switch never left A's shared memory.
    expect(redis.length).toBeGreaterThan(0);
    expect(Math.min(...redis)).toBeGreaterThanOrEqual(200);
    await Promise.all([onA, onB, pub].map((c) => c.kill()));
  });
});
