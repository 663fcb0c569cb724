/**
 * Commy client library: what application processes import.
 *
 * ```ts
 * import { connect } from "commy/worker/client";
 * const commy = await connect({ socketPath: "/run/commy/worker.sock", apiKey: process.env.COMMY_API_KEY! });
 * const prices = await commy.open("prices", { side: "producer" });     // a variables file
 * prices.write("eurusd", { bid: 1.0841 });                              // straight into the mapping
 * for await (const v of prices.watch("eurusd")) console.log(v.value);  // wakes on change
 * const events = await commy.open("events", { side: "consumer" });      // a stream file
 * for await (const m of events.subscribe({ from: "earliest" })) handle(m.value);
 * ```
 *
 * The socket is used only to authenticate and to open/close; after `open` every read and write
 * goes through the memory mapping (native module) without a round trip to the worker.
 */
import { EventEmitter } from "node:events";
import { randomBytes } from "node:crypto";
import { closeFd } from "../../native/lib/fd-passing";
import { SharedFile, type StreamReader, type Variable } from "../../native/lib/index";
import type { ConsistencySchema, CreationPolicy, DurabilitySchema, ExistencePolicy, Serialization, TransportPreference } from "../../src/server/contracts/worker";
import { LeasedSchema, type Opened, type WorkerEvent } from "../protocol/messages";
import { MessageType } from "../protocol/frame";
import { Connection } from "./connection";
import { CommyClientError, fromNativeError } from "./errors";
import { CODECS, type Codec } from "./serialization";
import type { z } from "zod";

export { CommyClientError, type CommyErrorCode } from "./errors";
export { CODECS, type Codec } from "./serialization";

export interface ConnectOptions {
  /** The worker's Unix socket (default /run/commy/worker.sock or COMMY_SOCKET). */
  socketPath?: string;
  apiKey: string;
  /** Per-request timeout for socket requests (default 5000 ms). */
  requestTimeoutMs?: number;
  /** Reconnect automatically when the worker restarts (default true). Open handles are closed
   * with CONNECTION_CLOSED either way; open them again after "reconnected". */
  reconnect?: boolean;
  clientName?: string;
}

export interface OpenOptions {
  side: "producer" | "consumer";
  /** Join this consumer group (stream files, consumer side); then read with `consume()`. */
  group?: string;
  creationPolicy?: CreationPolicy;
  existencePolicy?: ExistencePolicy;
  transport?: TransportPreference;
  performance?: { maxLatencyMicros?: number; minThroughputMsgPerSec?: number; consistency?: z.infer<typeof ConsistencySchema>; durability?: z.infer<typeof DurabilitySchema> };
  /** Override the file's serialization for this handle (all peers must agree). */
  serialization?: Serialization;
}

/** Connects and authenticates to the local worker. */
export async function connect(options: ConnectOptions): Promise<CommyClient> {
  const client = new CommyClient(options);
  await client.ready();
  return client;
}

export class CommyClient extends EventEmitter<{ disconnected: [CommyClientError]; reconnected: []; event: [WorkerEvent] }> {
  private conn: Connection | null = null;
  private connecting: Promise<void> | null = null;
  private readonly handles = new Map<string, SharedFileHandle>();
  private closed = false;
  private readonly opts: Required<Omit<ConnectOptions, "clientName">> & { clientName?: string };

  constructor(options: ConnectOptions) {
    super();
    this.opts = {
      socketPath: options.socketPath ?? process.env.COMMY_SOCKET ?? "/run/commy/worker.sock",
      apiKey: options.apiKey,
      requestTimeoutMs: options.requestTimeoutMs ?? 5000,
      reconnect: options.reconnect ?? true,
      clientName: options.clientName,
    };
  }

  /** Node and tenant this client is connected to. */
  get session(): { nodeId: string; tenantId: string; sessionId: string; scopes: string[] } | null {
    const w = this.conn?.isOpen ? this.conn.welcome : null;
    return w ? { nodeId: w.nodeId, tenantId: w.tenantId, sessionId: w.sessionId, scopes: w.scopes } : null;
  }

  /** Resolves once connected (waits for a reconnection in progress). */
  async ready(): Promise<void> {
    if (this.closed) throw new CommyClientError("CLOSED", "client closed");
    if (this.conn?.isOpen) return;
    this.connecting ??= this.connectOnce().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connectOnce(): Promise<void> {
    const conn = new Connection({ socketPath: this.opts.socketPath, apiKey: this.opts.apiKey, requestTimeoutMs: this.opts.requestTimeoutMs, clientName: this.opts.clientName });
    await conn.start();
    conn.on("event", (ev) => this.onEvent(ev));
    conn.on("closed", (why) => this.onClosed(conn, why));
    this.conn = conn;
  }

  private onEvent(ev: WorkerEvent): void {
    this.emit("event", ev);
    if (ev.event === "attachment-closed") this.handles.get(ev.attachmentId)?.invalidate(new CommyClientError(ev.code, ev.message));
  }

  private onClosed(conn: Connection, why: CommyClientError): void {
    if (this.conn !== conn) return;
    this.conn = null;
    for (const h of [...this.handles.values()]) h.invalidate(why);
    this.handles.clear();
    if (this.closed) return;
    this.emit("disconnected", why);
    if (this.opts.reconnect && why.code !== "API_KEY_REVOKED" && why.code !== "NODE_REVOKED") void this.reconnectLoop();
  }

  private async reconnectLoop(): Promise<void> {
    let delay = 100;
    while (!this.closed) {
      try {
        await this.ready();
        this.emit("reconnected");
        return;
      } catch (e) {
        const code = (e as CommyClientError).code;
        if (code === "API_KEY_INVALID" || code === "API_KEY_REVOKED" || code === "API_KEY_EXPIRED") return;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(2000, delay * 2);
      }
    }
  }

  /**
   * Attaches to the shared file `name` of the tenant. Returns a VariablesHandle or StreamHandle
   * (by the file's kind). Throws CommyClientError with the worker's code on refusal
   * (FORBIDDEN, FILE_NOT_FOUND, MAX_CONNECTIONS, ...).
   */
  async open(name: string, options: OpenOptions): Promise<VariablesHandle | StreamHandle> {
    await this.ready();
    const conn = this.conn!;
    const { opened, fd } = await conn.open({
      name,
      side: options.side === "producer" ? "PRODUCER" : "CONSUMER",
      group: options.group,
      creationPolicy: options.creationPolicy,
      existencePolicy: options.existencePolicy,
      transport: options.transport,
      performance: options.performance,
    });
    let file: SharedFile;
    try {
      file = SharedFile.openFd(fd, { readOnly: opened.readOnly });
    } catch (e) {
      await conn.closeAttachment(opened.attachmentId).catch(() => undefined);
      throw fromNativeError(e);
    } finally {
      closeFd(fd); // openFd duplicated it
    }
    const codec = CODECS[options.serialization ?? opened.serialization];
    const handle = opened.kind === "VARIABLES" ? new VariablesHandle(this, conn, opened, file, codec) : new StreamHandle(this, conn, opened, file, codec);
    this.handles.set(opened.attachmentId, handle);
    return handle;
  }

  /** @internal */
  forget(attachmentId: string): void {
    this.handles.delete(attachmentId);
  }

  /** Closes every handle and the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const h of [...this.handles.values()]) h.invalidate(new CommyClientError("CLOSED", "client closed"));
    this.handles.clear();
    this.conn?.close();
    this.conn = null;
  }
}

/** What every open handle has. */
abstract class SharedFileHandle {
  readonly name: string;
  readonly attachmentId: string;
  /** True when this attachment is read-only (kernel-enforced: the mapping is PROT_READ). */
  readonly readOnly: boolean;
  /** Transport the worker chose and why. */
  readonly transport: string;
  readonly reason: string;
  protected invalidated: CommyClientError | null = null;
  private closeListeners: ((e: CommyClientError) => void)[] = [];

  constructor(
    protected readonly client: CommyClient,
    protected readonly conn: Connection,
    protected readonly opened: Opened,
    protected readonly file: SharedFile,
    protected readonly codec: Codec,
  ) {
    this.name = opened.name;
    this.attachmentId = opened.attachmentId;
    this.readOnly = opened.readOnly;
    this.transport = opened.transport;
    this.reason = opened.reason;
  }

  /** Why the handle stopped working, or null while it works. */
  get closedReason(): CommyClientError | null {
    return this.invalidated;
  }

  /** @internal the worker closed the attachment, or the connection went away. */
  invalidate(reason: CommyClientError): void {
    if (this.invalidated) return;
    this.invalidated = reason;
    this.file.close();
    for (const l of this.closeListeners) l(reason);
  }

  protected onInvalidate(l: (e: CommyClientError) => void): () => void {
    this.closeListeners.push(l);
    return () => (this.closeListeners = this.closeListeners.filter((x) => x !== l));
  }

  protected check(): void {
    if (this.invalidated) throw this.invalidated;
  }

  protected checkWritable(): void {
    this.check();
    if (this.readOnly) throw new CommyClientError("READ_ONLY", `"${this.name}" is attached read-only (consumer side or a key without data:write); the mapping is read-only`);
  }

  /** Detaches (the worker removes the attachment) and unmaps. */
  async close(): Promise<void> {
    if (this.invalidated) return;
    this.invalidate(new CommyClientError("CLOSED", "handle closed"));
    this.client.forget(this.attachmentId);
    await this.conn.closeAttachment(this.attachmentId).catch(() => undefined);
  }
}

export interface VariableReading<T = unknown> {
  value: T;
  version: number;
}

/** A variables file: named latest-value slots. */
export class VariablesHandle extends SharedFileHandle {
  readonly kind = "variables" as const;

  private variable(name: string): Variable {
    this.check();
    try {
      return this.file.variable(name);
    } catch (e) {
      throw fromNativeError(e);
    }
  }

  /**
   * A bound accessor for one variable, for hot loops: no name lookup per call. After the handle
   * is closed (or the worker closes the attachment) its methods throw CLOSED.
   */
  slot(name: string): { readInto(out: Uint8Array): number; writeRaw(bytes: Uint8Array): number; readonly version: number } {
    const v = this.variable(name);
    const readOnly = this.readOnly;
    const self = this;
    return {
      readInto: (out) => v.readInto(out),
      writeRaw: (bytes) => {
        if (readOnly) self.checkWritable();
        return v.write(bytes);
      },
      get version() {
        return v.version;
      },
    };
  }

  /** Variable names of the file. */
  names(): string[] {
    this.check();
    return this.file.variableNames();
  }

  /** Current value (decoded) and version; `undefined` value before the first write. */
  read<T = unknown>(name: string): VariableReading<T | undefined> {
    const v = this.variable(name);
    const { version, data } = v.read();
    return { version, value: version === 0 ? undefined : (this.codec.decode(data) as T) };
  }

  /** Current raw bytes into `out` (no allocation); returns the length. */
  readInto(name: string, out: Uint8Array): number {
    try {
      return this.variable(name).readInto(out);
    } catch (e) {
      throw fromNativeError(e);
    }
  }

  /** Version of the last write (0 = never written). */
  version(name: string): number {
    return this.variable(name).version;
  }

  /** Writes `value` (encoded with the file's serialization); returns the new version. */
  write(name: string, value: unknown): number {
    this.checkWritable();
    const v = this.variable(name);
    try {
      return v.write(this.codec.encode(value));
    } catch (e) {
      throw fromNativeError(e);
    }
  }

  /** Writes raw bytes (no serialization). */
  writeRaw(name: string, bytes: Uint8Array): number {
    this.checkWritable();
    try {
      return this.variable(name).write(bytes);
    } catch (e) {
      throw fromNativeError(e);
    }
  }

  /**
   * Resolves when `name` changes past `lastVersion` (true) or on timeout (false). `mode: "spin"`
   * busy-polls (lowest latency, blocks the thread); "notify" (default) sleeps off-thread.
   */
  async waitForChange(name: string, lastVersion: number, opts: { mode?: "spin" | "notify"; timeoutMs?: number } = {}): Promise<boolean> {
    const v = this.variable(name);
    try {
      if (opts.mode === "spin") return v.spinUntilChanged(lastVersion, opts.timeoutMs ?? -1);
      if (!this.readOnly) return await v.waitForChange(lastVersion, { mode: "notify", timeoutMs: opts.timeoutMs });
      // A read-only mapping cannot register as a futex waiter (the counter lives in the file),
      // so writers never wake it: sleep in short slices instead.
      const until = opts.timeoutMs === undefined || opts.timeoutMs < 0 ? Infinity : Date.now() + opts.timeoutMs;
      for (;;) {
        const slice = Math.min(5, Math.max(0, until - Date.now()));
        if (await v.waitForChange(lastVersion, { mode: "notify", timeoutMs: slice })) return true;
        if (Date.now() >= until) return false;
        this.check();
      }
    } catch (e) {
      throw fromNativeError(e);
    }
  }

  /** Yields the current value, then every change (latest value; intermediate ones may be skipped). */
  async *watch<T = unknown>(name: string, opts: { signal?: AbortSignal } = {}): AsyncGenerator<VariableReading<T | undefined>> {
    let last = -1;
    while (!opts.signal?.aborted) {
      this.check();
      const r = this.read<T>(name);
      if (r.version !== last) {
        last = r.version;
        yield r;
        continue;
      }
      await this.waitForChange(name, last, { timeoutMs: 250 });
    }
  }
}

export interface StreamMessage<T = unknown> {
  seq: number;
  value: T;
  /** Messages this subscriber lost to overwrite before this one (overflow "overwrite"). */
  lost: number;
}

const ENVELOPE_REQUEST = 1;
const ENVELOPE_REPLY = 2;
const ID_BYTES = 16;

/** A stream file: publish/subscribe, and request/reply on files with pattern REQUEST_RESPONSE. */
export class StreamHandle extends SharedFileHandle {
  readonly kind = "stream" as const;

  #stream: ReturnType<() => SharedFile["stream"]> | null = null;

  private get stream() {
    if (this.#stream && !this.invalidated) return this.#stream;
    this.check();
    try {
      return (this.#stream = this.file.stream);
    } catch (e) {
      throw fromNativeError(e);
    }
  }

  /** Appends one message; returns its sequence number. */
  publish(value: unknown): number {
    if (this.invalidated || this.readOnly) this.checkWritable();
    try {
      return this.stream.append(this.codec.encode(value));
    } catch (e) {
      throw fromNativeError(e);
    }
  }

  /** Appends several messages under one lock; returns the first sequence number. */
  publishBatch(values: readonly unknown[]): number {
    this.checkWritable();
    try {
      return this.stream.appendBatch(values.map((v) => this.codec.encode(v)));
    } catch (e) {
      throw fromNativeError(e);
    }
  }

  /**
   * Appends `count` messages of raw bytes (no serialization) packed back to back in `data`, their
   * lengths in `lengths`: one native call and one lock for the whole batch, the fastest way to
   * publish many messages. Returns the first sequence number.
   */
  publishPacked(data: Uint8Array, lengths: Uint32Array, count = lengths.length): number {
    if (this.invalidated || this.readOnly) this.checkWritable();
    try {
      return this.stream.appendPacked(data, lengths, count);
    } catch (e) {
      throw fromNativeError(e);
    }
  }

  /** Appends raw bytes (no serialization). */
  publishRaw(bytes: Uint8Array): number {
    if (this.invalidated || this.readOnly) this.checkWritable();
    try {
      return this.stream.append(bytes);
    } catch (e) {
      throw fromNativeError(e);
    }
  }

  /** A raw reader over the mapping (for hot loops: `nextInto` without allocation). */
  reader(opts: { from?: "earliest" | "latest" | number } = {}): StreamReader {
    try {
      return this.stream.reader({ from: opts.from ?? "latest" });
    } catch (e) {
      throw fromNativeError(e);
    }
  }

  /**
   * Every message from `from` on, as an async iterator. Ends when `signal` aborts, or throws
   * when the attachment is closed by the worker (e.g. key revoked).
   */
  async *subscribe<T = unknown>(opts: { from?: "earliest" | "latest" | number; signal?: AbortSignal } = {}): AsyncGenerator<StreamMessage<T>> {
    const reader = this.reader(opts);
    let lostBefore = 0;
    try {
      while (!opts.signal?.aborted) {
        this.check();
        const m = reader.next();
        if (m) {
          const lost = reader.lost - lostBefore;
          lostBefore = reader.lost;
          yield { seq: m.seq, value: this.decodeMessage(m.data) as T, lost };
          continue;
        }
        // Read-only readers cannot be woken by futex (see VariablesHandle.waitForChange): short slices.
        await reader.waitForData({ mode: "notify", timeoutMs: this.readOnly ? 5 : 250 });
      }
    } catch (e) {
      throw fromNativeError(e);
    } finally {
      try {
        reader.close();
      } catch {
        /* file already closed */
      }
    }
  }

  /**
   * Consumer-group consumption (open with `{ side: "consumer", group }`): the worker leases this
   * member ranges of sequence numbers no other member of the group holds; each message is
   * yielded to one member. A message counts as done when the member asks for the next one (its
   * range is acknowledged with the next lease); ranges of a member that dies or closes before
   * acknowledging are redelivered to the others: at-least-once.
   */
  async *consume<T = unknown>(opts: { batch?: number; signal?: AbortSignal } = {}): AsyncGenerator<StreamMessage<T>> {
    if (!this.opened.group) throw new CommyClientError("WRONG_KIND", `open "${this.name}" with { group } to consume as a group member`);
    const max = opts.batch ?? 256;
    let ack: [number, number][] = [];
    let waiter: StreamReader | null = null;
    try {
      while (!opts.signal?.aborted) {
        this.check();
        const leased = LeasedSchema.parse(await this.conn.request(MessageType.LEASE, { attachmentId: this.attachmentId, max, ack }, MessageType.LEASED));
        ack = [];
        if (leased.ranges.length === 0) {
          waiter ??= this.reader({ from: "latest" });
          await waiter.waitForData({ mode: "notify", timeoutMs: this.readOnly ? 5 : 100 });
          while (waiter.next()) {
            /* only used to sleep until something is published */
          }
          continue;
        }
        for (const [from, to] of leased.ranges) {
          const reader = this.reader({ from });
          try {
            let lostBefore = 0;
            for (;;) {
              const m = reader.next();
              if (!m || m.seq >= to) break;
              const lost = reader.lost - lostBefore;
              lostBefore = reader.lost;
              yield { seq: m.seq, value: this.codec.decode(m.data) as T, lost };
              if (m.seq + 1 >= to) break;
            }
          } finally {
            reader.close();
          }
          ack.push([from, to]);
        }
      }
    } catch (e) {
      throw fromNativeError(e);
    } finally {
      waiter?.close();
      // Acknowledge what was consumed, without taking a new lease we would not read.
      if (ack.length && !this.invalidated) void this.conn.request(MessageType.LEASE, { attachmentId: this.attachmentId, max: 0, ack }, MessageType.LEASED).catch(() => undefined);
    }
  }

  private decodeMessage(data: Uint8Array): unknown {
    if (this.opened.layout && this.isRequestResponse) return { envelope: data[0], id: Buffer.from(data.subarray(1, 1 + ID_BYTES)).toString("hex"), value: this.codec.decode(data.subarray(1 + ID_BYTES)) };
    return this.codec.decode(data);
  }

  private get isRequestResponse(): boolean {
    return (this.opened as Opened & { pattern?: string }).pattern === "REQUEST_RESPONSE" || this.rrMode;
  }

  private rrMode = false;

  private envelope(kind: number, id: Buffer, value: unknown): Uint8Array {
    const body = this.codec.encode(value);
    const out = new Uint8Array(1 + ID_BYTES + body.length);
    out[0] = kind;
    out.set(id, 1);
    out.set(body, 1 + ID_BYTES);
    return out;
  }

  /**
   * Request/reply over one bidirectional stream: publishes `value` as a request envelope
   * (`[1][16-byte id][payload]`) and resolves with the payload of the first reply envelope
   * (`[2][same id][payload]`). Both sides need write access.
   */
  async request<T = unknown>(value: unknown, opts: { timeoutMs?: number } = {}): Promise<T> {
    this.checkWritable();
    this.rrMode = true;
    const id = randomBytes(ID_BYTES);
    const reader = this.reader({ from: "latest" });
    const deadline = Date.now() + (opts.timeoutMs ?? 5000);
    try {
      this.stream.append(this.envelope(ENVELOPE_REQUEST, id, value));
      for (;;) {
        this.check();
        const m = reader.next();
        if (m) {
          if (m.data[0] === ENVELOPE_REPLY && Buffer.compare(Buffer.from(m.data.subarray(1, 1 + ID_BYTES)), id) === 0) return this.codec.decode(m.data.subarray(1 + ID_BYTES)) as T;
          continue;
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new CommyClientError("TIMEOUT", `no reply on "${this.name}" within ${opts.timeoutMs ?? 5000} ms`, true);
        await reader.waitForData({ mode: "notify", timeoutMs: Math.min(left, 250) });
      }
    } catch (e) {
      throw fromNativeError(e);
    } finally {
      reader.close();
    }
  }

  /**
   * Serves requests: calls `handler` for every request envelope and publishes its result as the
   * reply. Runs until `signal` aborts or the attachment closes.
   */
  async serve(handler: (value: unknown) => unknown | Promise<unknown>, opts: { signal?: AbortSignal } = {}): Promise<void> {
    this.checkWritable();
    this.rrMode = true;
    const reader = this.reader({ from: "latest" });
    try {
      while (!opts.signal?.aborted) {
        this.check();
        const m = reader.next();
        if (!m) {
          await reader.waitForData({ mode: "notify", timeoutMs: 250 });
          continue;
        }
        if (m.data[0] !== ENVELOPE_REQUEST) continue;
        const id = Buffer.from(m.data.subarray(1, 1 + ID_BYTES));
        const result = await handler(this.codec.decode(m.data.subarray(1 + ID_BYTES)));
        this.stream.append(this.envelope(ENVELOPE_REPLY, id, result));
      }
    } catch (e) {
      if (this.invalidated) return;
      throw fromNativeError(e);
    } finally {
      try {
        reader.close();
      } catch {
        /* closed */
      }
    }
  }
}
