/**
 * RouteProducer: forwards a node's local writes (stream messages, variable writes) of shared
 * files to their Redis streams.
 *
 * - Batching only under load (Nagle off): a record sent for an idle file is written to Redis at
 *   once; every record sent while the previous frame of that file is in flight goes into the
 *   next frame = one XADD, bounded by `maxFrameRecords`/`maxFrameBytes`.
 * - Per-file order: at most one frame per file is in flight; a frame that failed is resent
 *   unchanged (same origin, epoch, seqs) before anything newer, so the stream holds records
 *   in send order, possibly with duplicates that consumers drop by (origin, epoch, seq).
 * - Bounded retention: every XADD trims (MAXLEN ~ or MINID ~, per file).
 * - Backpressure: while Redis is down, records of durable files wait in a bounded in-memory
 *   backlog and are delivered after recovery; when the backlog is full `send` throws
 *   ROUTE_BACKLOG_FULL (nothing is silently lost). Records of non-durable files are dropped
 *   while Redis is down (counted in stats.dropped and reported through onEvent).
 *   The backlog lives in this process's memory: a crash of the worker loses it.
 */
import { randomBytes } from "node:crypto";
import { FRAME_FIELD, FrameEncoder, type RouteRecordInput } from "./codec";
import {
  canPreEncode, connectClient, createRedisClient, encodeCommand, PreEncodedCommand, withLastArgument, type RedisClient, type RedisTarget,
} from "./connection";
import { RoutingError } from "./errors";
import type { HlcStamp, HybridLogicalClock } from "./hlc";
import { assertId, fileKeys, type FileRef } from "./keys";
import { snapshotArgs, variableSnapshotKey, xaddWithSnapshot, type SnapshotWrite } from "./snapshot";

export interface RetentionPolicy {
  /** Keep about this many frames (XADD MAXLEN ~). Default 100,000. */
  maxLen?: number;
  /** Or: keep frames younger than this (XADD MINID ~ now-minAgeMs). Wins over maxLen. */
  maxAgeMs?: number;
}

export interface FileRoutingPolicy {
  /** Durable files keep their backlog while Redis is down (bounded); others drop it. Default true. */
  durable?: boolean;
  retention?: RetentionPolicy;
}

export type ProducerEvent =
  | { type: "down"; error: string }
  | { type: "up"; backlogRecords: number }
  | { type: "overflow"; file: FileRef; durable: boolean; backlogRecords: number; backlogBytes: number }
  | { type: "dropped"; file: FileRef; records: number; reason: string };

export interface RouteProducerOptions {
  /** Where to connect, or an existing client (then the producer does not close it). */
  redis: RedisTarget | { client: RedisClient };
  nodeId: string;
  /** Identifies this producer incarnation; default: random. Seqs restart at 1 per epoch. */
  epoch?: string;
  /** Clock for variable writes that come without a stamp. */
  clock?: HybridLogicalClock;
  maxFrameRecords?: number;
  maxFrameBytes?: number;
  maxPayloadBytes?: number;
  /** Backlog bound across files (records not yet confirmed by Redis). */
  maxBacklogRecords?: number;
  maxBacklogBytes?: number;
  /** Default policy for files not configured with configureFile(). */
  defaultPolicy?: FileRoutingPolicy;
  onEvent?: (e: ProducerEvent) => void;
}

interface Frame {
  /** The encoded frame (format version 2): the value of the entry's one field. */
  data: Buffer;
  /** Variable writes of the frame: the snapshot hash update that goes with its XADD. */
  snapshot: (string | Buffer)[] | null;
  records: number;
  bytes: number;
}

interface FileState {
  ref: FileRef;
  stream: string;
  vars: string;
  durable: boolean;
  trim: Trim;
  /** RESP of `XADD <stream> MAXLEN ~ <n> * f` (the frame is appended per send); null: build per send. */
  xaddHead: Buffer | null;
  queue: RouteRecordInput[];
  queueBytes: number;
  frame: Frame | null;
  inflight: boolean;
  nextSeq: number;
  enqueued: number;
  done: number;
  waiters: { target: number; resolve: () => void }[];
}

export interface ProducerStats {
  sentRecords: number;
  sentFrames: number;
  dropped: number;
  refused: number;
  retries: number;
  backlogRecords: number;
  backlogBytes: number;
  healthy: boolean;
}

const RECORD_OVERHEAD = 16;

export class RouteProducer {
  readonly nodeId: string;
  readonly epoch: string;
  private readonly client: RedisClient;
  private readonly ownsClient: boolean;
  private readonly files = new Map<string, FileState>();
  private readonly encoder: FrameEncoder;
  /** The client writes keys unchanged, so XADDs can be pre-encoded (connection.ts PreEncodedCommand). */
  private readonly preEncode: boolean;
  /** tenantId → fileId → state: the per-record lookup. */
  private readonly byTenant = new Map<string, Map<string, FileState>>();
  private readonly opts: Required<Pick<RouteProducerOptions, "maxFrameRecords" | "maxFrameBytes" | "maxPayloadBytes" | "maxBacklogRecords" | "maxBacklogBytes">>;
  private healthy = true;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay = 50;
  private readonly s = { sentRecords: 0, sentFrames: 0, dropped: 0, refused: 0, retries: 0, backlogRecords: 0, backlogBytes: 0 };

  constructor(private readonly options: RouteProducerOptions) {
    assertId("node", options.nodeId);
    this.nodeId = options.nodeId;
    this.epoch = options.epoch ?? `${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(this.epoch)) throw new RoutingError("ROUTE_INVALID_CONFIG", "epoch must match [A-Za-z0-9_-]{1,64}");
    this.encoder = new FrameEncoder(this.nodeId, this.epoch);
    this.opts = {
      maxFrameRecords: options.maxFrameRecords ?? 1024,
      maxFrameBytes: options.maxFrameBytes ?? 1 << 20,
      maxPayloadBytes: options.maxPayloadBytes ?? 1 << 20,
      maxBacklogRecords: options.maxBacklogRecords ?? 100_000,
      maxBacklogBytes: options.maxBacklogBytes ?? 64 << 20,
    };
    if ("client" in options.redis) {
      this.client = options.redis.client;
      this.ownsClient = false;
    } else {
      this.client = createRedisClient(options.redis, "producer");
      this.ownsClient = true;
    }
    this.preEncode = canPreEncode(this.client);
    this.client.on("ready", this.onReady);
    this.client.on("close", this.onClose);
    this.client.on("error", () => {
      /* surfaced through command failures and the "down" event */
    });
  }

  /** Connects (when the producer owns its connection). Sends before start() wait in the backlog. */
  async start(): Promise<void> {
    if (this.ownsClient) await connectClient(this.client);
  }

  /** Sets per-file durability and retention. Takes effect for frames built afterwards. */
  configureFile(file: FileRef, policy: FileRoutingPolicy): void {
    const st = this.state(file);
    st.durable = policy.durable ?? true;
    st.trim = trimArgs(policy.retention);
    st.xaddHead = this.xaddHead(st.stream, st.trim);
  }

  /**
   * Sets the seq the next record of `file` gets; only before the first record of the file. A
   * caller that persists how far it forwarded (the worker) restarts with the same epoch at the
   * seq it stopped at, so records it forwards again after a crash keep their (origin, epoch, seq)
   * and consumers drop them as duplicates.
   */
  resumeFile(file: FileRef, nextSeq: number): void {
    const st = this.state(file);
    if (st.enqueued > 0) throw new RoutingError("ROUTE_INVALID_CONFIG", "resumeFile must be called before the first record of the file");
    if (!Number.isSafeInteger(nextSeq) || nextSeq < 1) throw new RoutingError("ROUTE_INVALID_CONFIG", `nextSeq must be a positive integer, got ${nextSeq}`);
    st.nextSeq = nextSeq;
  }

  /** Records of `file` accepted by send() so far and how many of them Redis confirmed (or were dropped). */
  fileProgress(file: FileRef): { enqueued: number; done: number } {
    const st = this.files.get(fileKeys(file).stream);
    return { enqueued: st?.enqueued ?? 0, done: st?.done ?? 0 };
  }

  /** Forwards a stream message. Throws ROUTE_BACKLOG_FULL when the bounded backlog is full. */
  publish(file: FileRef, payload: Uint8Array, subject = ""): void {
    this.send(file, { kind: "message", name: subject, payload });
  }

  /**
   * Forwards a variable write. `stamp` is the HLC stamp the local write got (the worker stamps
   * the mapping and forwards the same stamp); without it the producer's clock ticks.
   */
  writeVariable(file: FileRef, name: string, payload: Uint8Array, stamp?: HlcStamp): HlcStamp {
    const hlc = stamp ?? this.options.clock?.tick();
    if (!hlc) throw new RoutingError("ROUTE_INVALID_CONFIG", "writeVariable needs a stamp or a producer clock");
    if (hlc.nodeId !== this.nodeId) throw new RoutingError("ROUTE_INVALID_CONFIG", `variable stamp node ${hlc.nodeId} is not this producer's node ${this.nodeId}`);
    this.send(file, { kind: "variable", name, payload, hlc });
    return hlc;
  }

  /** Forwards one record. */
  send(file: FileRef, record: RouteRecordInput): void {
    if (this.closed) throw new RoutingError("ROUTE_CLOSED", "producer is closed");
    const size = record.payload.byteLength + record.name.length + RECORD_OVERHEAD;
    if (record.payload.byteLength > this.opts.maxPayloadBytes) {
      throw new RoutingError("ROUTE_PAYLOAD_TOO_LARGE", `payload of ${record.payload.byteLength} bytes exceeds ${this.opts.maxPayloadBytes}`);
    }
    const st = this.state(file);
    if (!this.healthy && !st.durable) {
      this.s.dropped++;
      this.options.onEvent?.({ type: "dropped", file: st.ref, records: 1, reason: "redis unavailable and file is not durable" });
      return;
    }
    if (this.s.backlogRecords + 1 > this.opts.maxBacklogRecords || this.s.backlogBytes + size > this.opts.maxBacklogBytes) {
      this.s.refused++;
      this.options.onEvent?.({ type: "overflow", file: st.ref, durable: st.durable, backlogRecords: this.s.backlogRecords, backlogBytes: this.s.backlogBytes });
      throw new RoutingError(
        "ROUTE_BACKLOG_FULL",
        `routing backlog full (${this.s.backlogRecords} records, ${this.s.backlogBytes} bytes; Redis ${this.healthy ? "too slow" : "unreachable"}): record for ${st.ref.tenantId}/${st.ref.fileId} refused`,
        { backlogRecords: this.s.backlogRecords, backlogBytes: this.s.backlogBytes, healthy: this.healthy },
      );
    }
    st.enqueued++;
    this.s.backlogRecords++;
    this.s.backlogBytes += size;
    // Nagle off: an idle file sends at once (a frame of one record, no timer, no tick of delay);
    // while its frame is in flight, records queue and go together in the next frame as soon as
    // the reply is back, so batching grows exactly with load.
    if (st.inflight || st.frame || st.queue.length || record.kind !== "message") {
      st.queue.push(record);
      st.queueBytes += size;
      if (!st.inflight) this.pump(st);
      return;
    }
    // The idle file's message (the latency path): its frame is encoded straight from the record.
    st.frame = {
      data: this.encoder.encodeMessage(st.nextSeq++, Date.now(), record.name, record.payload),
      snapshot: null,
      records: 1,
      bytes: size,
    };
    this.pump(st);
  }

  /** Resolves once every record sent so far is in Redis (or was dropped as non-durable). */
  flush(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const st of this.files.values()) {
      if (st.done >= st.enqueued) continue;
      const target = st.enqueued;
      waits.push(new Promise((resolve) => st.waiters.push({ target, resolve })));
    }
    return Promise.all(waits).then(() => undefined);
  }

  stats(): ProducerStats {
    return { ...this.s, healthy: this.healthy };
  }

  /**
   * Stops accepting records, tries to flush the backlog for up to `graceMs`, then closes the
   * connection it owns. Records still in the backlog after the grace period are reported in
   * the returned count (they are lost). Idempotent.
   */
  async close(graceMs = 5000): Promise<{ undelivered: number }> {
    if (this.closed) return { undelivered: this.s.backlogRecords };
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.client.off("ready", this.onReady);
    this.client.off("close", this.onClose);
    if (this.ownsClient) this.client.disconnect();
    return { undelivered: this.s.backlogRecords };
  }

  private state(file: FileRef): FileState {
    // Hot path (once per record): two map lookups, no key building, no id validation.
    const hit = this.byTenant.get(file.tenantId)?.get(file.fileId);
    if (hit) return hit;
    const k = fileKeys(file);
    let st = this.files.get(k.stream);
    if (!st) {
      const def = this.options.defaultPolicy ?? {};
      const trim = trimArgs(def.retention);
      st = {
        ref: { tenantId: file.tenantId, fileId: file.fileId },
        stream: k.stream,
        vars: variableSnapshotKey(file),
        durable: def.durable ?? true,
        trim,
        xaddHead: this.xaddHead(k.stream, trim),
        queue: [],
        queueBytes: 0,
        frame: null,
        inflight: false,
        nextSeq: 1,
        enqueued: 0,
        done: 0,
        waiters: [],
      };
      this.files.set(k.stream, st);
    }
    let files = this.byTenant.get(file.tenantId);
    if (!files) this.byTenant.set(file.tenantId, (files = new Map()));
    files.set(file.fileId, st);
    return st;
  }

  private xaddHead(stream: string, trim: Trim): Buffer | null {
    if (!this.preEncode || trim.maxAgeMs !== undefined) return null; // MINID's threshold moves: built per send
    return encodeCommand(["XADD", stream, trim.strategy, "~", trim.threshold, "*", FRAME_FIELD], true);
  }

  private buildFrame(st: FileState): Frame | null {
    if (!st.queue.length) return null;
    let n = 0;
    let bytes = 0;
    while (n < st.queue.length && n < this.opts.maxFrameRecords) {
      const r = st.queue[n]!;
      const size = r.payload.byteLength + r.name.length + RECORD_OVERHEAD;
      if (n > 0 && bytes + size > this.opts.maxFrameBytes) break;
      bytes += size;
      n++;
    }
    let records: RouteRecordInput[];
    if (n === st.queue.length) {
      records = st.queue; // the whole queue: hand the array over instead of copying it
      st.queue = [];
    } else {
      records = st.queue.splice(0, n);
    }
    st.queueBytes -= bytes;
    const firstSeq = st.nextSeq;
    st.nextSeq += n;
    const data = this.encoder.encode(firstSeq, Date.now(), records);
    let vars: SnapshotWrite[] | null = null;
    for (const r of records) if (r.kind === "variable" && r.hlc) (vars ??= []).push({ name: r.name, payload: r.payload, stamp: r.hlc });
    return {
      data,
      snapshot: vars ? snapshotArgs(this.nodeId, vars) : null,
      records: n,
      bytes,
    };
  }

  private pump(st: FileState): void {
    if (st.inflight) return;
    if (!st.frame) st.frame = this.buildFrame(st);
    const frame = st.frame;
    if (!frame) return;
    if (this.ownsClient && this.client.status === "wait") return; // start() not called yet
    st.inflight = true;
    // The trim threshold is evaluated per XADD (MINID moves with time).
    const trim = st.trim;
    const threshold = trim.maxAgeMs === undefined ? trim.threshold : `${Date.now() - trim.maxAgeMs}-0`;
    // A frame with variable writes also updates the file's snapshot hash, in the same script.
    let sent: Promise<unknown>;
    if (frame.snapshot) {
      sent = xaddWithSnapshot(this.client, st, [trim.strategy, "~", threshold, "*", FRAME_FIELD, frame.data], frame.snapshot);
    } else if (st.xaddHead) {
      const args = [st.stream, trim.strategy, "~", threshold, "*", FRAME_FIELD, frame.data];
      const cmd = new PreEncodedCommand("XADD", args, withLastArgument(st.xaddHead, frame.data));
      sent = this.client.sendCommand(cmd) as Promise<unknown>; // cmd.promise (or ioredis' traced wrapper of it)
    } else {
      sent = this.client.call("XADD", [st.stream, trim.strategy, "~", threshold, "*", FRAME_FIELD, frame.data]);
    }
    sent.then(
      () => {
        st.inflight = false;
        st.frame = null;
        this.complete(st, frame.records, frame.bytes);
        this.s.sentRecords += frame.records;
        this.s.sentFrames++;
        this.retryDelay = 50;
        if (!this.healthy) this.markUp();
        if (st.queue.length) this.pump(st);
      },
      (err: Error) => {
        st.inflight = false;
        this.s.retries++;
        this.markDown(err);
        if (!st.durable) {
          // Non-durable: the frame and anything queued behind it are dropped, not retried.
          const records = frame.records + st.queue.length;
          const bytes = frame.bytes + st.queueBytes;
          st.frame = null;
          st.queue = [];
          st.queueBytes = 0;
          this.s.dropped += records;
          this.complete(st, records, bytes);
          this.options.onEvent?.({ type: "dropped", file: st.ref, records, reason: err.message });
        }
        this.scheduleRetry();
      },
    );
  }

  private complete(st: FileState, records: number, bytes: number): void {
    st.done += records;
    this.s.backlogRecords -= records;
    this.s.backlogBytes -= bytes;
    if (st.waiters.length) {
      const still: FileState["waiters"] = [];
      for (const w of st.waiters) (st.done >= w.target ? w.resolve() : still.push(w));
      st.waiters = still;
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.pumpAll();
    }, this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, 2000);
  }

  private pumpAll(): void {
    for (const st of this.files.values()) this.pump(st);
  }

  private markDown(err: Error): void {
    if (!this.healthy) return;
    this.healthy = false;
    this.options.onEvent?.({ type: "down", error: err.message });
  }

  private markUp(): void {
    this.healthy = true;
    this.options.onEvent?.({ type: "up", backlogRecords: this.s.backlogRecords });
  }

  private readonly onReady = () => {
    this.retryDelay = 50;
    if (!this.healthy && !this.closed) this.markUp();
    this.pumpAll();
  };

  private readonly onClose = () => {
    if (!this.closed) this.markDown(new Error("connection to Redis closed"));
  };
}

/** XADD trimming of one file: `<strategy> ~ <threshold>`; MINID's threshold is computed per XADD. */
interface Trim {
  strategy: "MAXLEN" | "MINID";
  threshold: string;
  maxAgeMs?: number;
}

function trimArgs(r: RetentionPolicy | undefined): Trim {
  if (r?.maxAgeMs !== undefined) return { strategy: "MINID", threshold: "", maxAgeMs: r.maxAgeMs };
  return { strategy: "MAXLEN", threshold: String(r?.maxLen ?? 100_000) };
}
