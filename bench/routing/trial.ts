/**
 * One side of one benchmark trial, in its own process. Role and parameters come as JSON in
 * COMMY_BENCH_TRIAL. Prints `READY` when it can receive, and one JSON result line at the end.
 *
 * Latency: the producer stamps each 64 B message with process.hrtime.bigint() (CLOCK_MONOTONIC,
 * shared by processes on one host) and sends one message per ~1 ms; the receiver records
 * now - stamp. Throughput: the producer sends N messages as fast as the transport accepts them;
 * the receiver reports N / (time of last receive - time of first send).
 */
import { connect as natsConnect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { RouteConsumer, RouteProducer } from "../../routing";

interface Trial {
  role: "commy-recv" | "commy-send" | "raw-recv" | "raw-send" | "nats-recv" | "nats-send";
  mode: "latency" | "throughput";
  redisUrl: string;
  natsUrl: string;
  file: { tenantId: string; fileId: string };
  count: number;
  warmup: number;
}

const t = JSON.parse(process.env.COMMY_BENCH_TRIAL!) as Trial;
const SIZE = 64;
const now = () => process.hrtime.bigint();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function message(i: number): Buffer {
  const b = Buffer.alloc(SIZE);
  b.writeBigUInt64LE(now(), 0);
  b.writeUInt32LE(i, 8);
  return b;
}

/** Receiver bookkeeping shared by the three transports. */
class Recorder {
  lat: number[] = [];
  n = 0;
  firstSend = 0n;
  last = 0n;
  done!: () => void;
  readonly finished = new Promise<void>((r) => (this.done = r));
  constructor(private readonly total: number, private readonly warmup: number) {}
  onMessage(buf: Uint8Array): void {
    const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    const sent = b.readBigUInt64LE(0);
    const at = now();
    if (this.n === 0) this.firstSend = sent;
    this.n++;
    if (t.mode === "latency" && this.n > this.warmup) this.lat.push(Number(at - sent) / 1000);
    this.last = at;
    if (this.n === this.total) this.done();
  }
  result() {
    if (t.mode === "latency") return { latenciesUs: this.lat };
    return { count: this.n, seconds: Number(this.last - this.firstSend) / 1e9 };
  }
}

async function send(publish: (b: Buffer) => void, flush: () => Promise<void>): Promise<void> {
  if (t.mode === "latency") {
    for (let i = 0; i < t.count; i++) {
      publish(message(i));
      await sleep(1);
    }
  } else {
    for (let i = 0; i < t.count; i++) {
      publish(message(i));
      if ((i & 1023) === 1023) await new Promise((r) => setImmediate(r));
    }
  }
  await flush();
}

const total = t.count;
const rec = new Recorder(total, t.warmup);

switch (t.role) {
  case "commy-recv": {
    const c = new RouteConsumer({ redis: { url: t.redisUrl }, file: t.file, nodeId: "bench-recv", batchSize: 256, apply: (r) => rec.onMessage(r.payload) });
    await c.start();
    console.log("READY");
    await rec.finished;
    await c.close();
    break;
  }
  case "commy-send": {
    const p = new RouteProducer({ redis: { url: t.redisUrl }, nodeId: "bench-send", maxBacklogRecords: 2_000_000, maxBacklogBytes: 1 << 30 });
    await p.start();
    await send((b) => p.publish(t.file, b), () => p.flush());
    await p.close();
    break;
  }
  case "raw-recv": {
    // The baseline a developer would write by hand: XREADGROUP BLOCK, then XACK.
    const r = new Redis(t.redisUrl);
    const key = `raw:${t.file.fileId}`;
    await r.xgroup("CREATE", key, "g", "$", "MKSTREAM").catch(() => undefined);
    console.log("READY");
    void (async () => {
      while (rec.n < total) {
        const res = (await r.callBuffer("XREADGROUP", ["GROUP", "g", "c", "COUNT", 256, "BLOCK", 5000, "STREAMS", key, ">"])) as unknown;
        if (!Array.isArray(res) || !res.length) continue;
        const entries = (Buffer.isBuffer(res[0]) ? res[1] : (res[0] as unknown[])[1]) as [Buffer, Buffer[]][];
        const ids: Buffer[] = [];
        for (const [id, f] of entries) {
          ids.push(id);
          rec.onMessage(f[1]!);
        }
        void r.xack(key, "g", ...ids);
      }
    })();
    await rec.finished;
    r.disconnect();
    break;
  }
  case "raw-send": {
    // Latency: a plain client (each XADD written at once, what a developer writes by hand).
    // Throughput: auto-pipelining, the fastest way to push one entry per message.
    const r = new Redis(t.redisUrl, { enableAutoPipelining: t.mode === "throughput" });
    const key = `raw:${t.file.fileId}`;
    let pending: Promise<unknown>[] = [];
    await send(
      (b) => {
        pending.push(r.xadd(key, "MAXLEN", "~", 100000, "*", "d", b));
        if (pending.length > 4096) {
          const ps = pending;
          pending = [];
          void Promise.all(ps);
        }
      },
      async () => {
        await Promise.all(pending);
      },
    );
    // Let the tail of the auto-pipeline drain before disconnecting.
    await r.ping();
    r.disconnect();
    break;
  }
  case "nats-recv": {
    const nc = await natsConnect({ servers: t.natsUrl });
    const sub = nc.subscribe(`bench.${t.file.fileId}`);
    await nc.flush();
    console.log("READY");
    void (async () => {
      for await (const m of sub) rec.onMessage(m.data);
    })();
    await rec.finished;
    await nc.close();
    break;
  }
  case "nats-send": {
    const nc = await natsConnect({ servers: t.natsUrl });
    await send((b) => nc.publish(`bench.${t.file.fileId}`, b), () => nc.flush());
    await nc.close();
    break;
  }
}
if (t.role.endsWith("recv")) console.log(JSON.stringify(rec.result()));
process.exit(0);
