/**
 * RouteConsumer: applies the records other nodes forwarded for one shared file.
 *
 * Delivery model (docs/spec/redis-routing.md, "Consuming"):
 * - broadcast files: each node reads through its own consumer group `b:<nodeId>`, so every
 *   node gets every record; queue files: all nodes share group `q`, so each entry goes to one
 *   node.
 * - at-least-once from Redis, idempotent apply: records already applied (by origin, epoch,
 *   seq) are skipped, so the apply callback sees each record once. The dedupe window and the
 *   last applied id are committed with the XACK of each batch (one Lua script).
 * - restart: the state is loaded, the consumer's own pending entries are claimed (XAUTOCLAIM,
 *   broadcast) or re-read (queue) before new ones, so it resumes where it stopped; a group that
 *   vanished (Redis lost its data) is recreated at the last applied id.
 * - per-file order: entries are applied one at a time in stream order; a failing record is
 *   retried in place (`maxAttempts`, with backoff) and then dead-lettered with its error, so a
 *   poison record cannot stall the file forever.
 * - close() interrupts the blocking read by closing the reader's own connection, waits for the
 *   batch in progress to be committed (grace period), and is idempotent.
 */
import type { Command } from "ioredis";
import { Packr } from "msgpackr";
import { compareStreamIds, decodeFrame, type RoutedRecord } from "./codec";
import {
  connectClient, createRedisClient, encodeCommand, isConnectionError, PreEncodedCommand, type RedisClient, type RedisTarget,
} from "./connection";
import { DedupeWindow, type DedupeOptions } from "./dedupe";
import { RoutingError } from "./errors";
import { assertId, fileKeys, groupName, type FileKeys, type FileRef } from "./keys";
import { RedisAppliedStateStore, type AppliedState, type AppliedStateStore } from "./state-store";

export type DeliveryPattern = "broadcast" | "queue";

export type ApplyFn = (record: RoutedRecord) => Promise<void> | void;

export type ConsumerEvent =
  | { type: "started"; lastId: string; group: string }
  | { type: "recovered"; entries: number; source: "pending" | "claimed" }
  | { type: "dead-lettered"; streamId: string; index: number; error: string; attempts: number }
  | { type: "apply-failed"; streamId: string; index: number; error: string; attempt: number }
  | { type: "group-recreated"; at: string }
  | { type: "trimmed"; ids: string[] }
  | { type: "error"; error: string; connection: boolean };

export interface RouteConsumerOptions {
  /** Where to connect. The consumer opens two connections: commands and its blocking reader. */
  redis: RedisTarget;
  file: FileRef;
  nodeId: string;
  pattern?: DeliveryPattern;
  apply: ApplyFn;
  /** Where a new group starts reading: "$" (new entries only, default) or "0" (all retained) or an id. */
  startId?: string;
  /** Entries per read. Default 64 (each entry is a frame of up to maxFrameRecords records). */
  batchSize?: number;
  /** XREADGROUP BLOCK timeout; close() does not wait for it. Default 5000 ms. */
  blockMs?: number;
  /** Attempts before a record is dead-lettered. Default 5. */
  maxAttempts?: number;
  /** First retry delay, doubled each attempt. Default 20 ms. */
  retryDelayMs?: number;
  /** Queue pattern: entries pending on another consumer longer than this are claimed. Default 30 s. */
  claimIdleMs?: number;
  /** Skip records this node produced (the worker already applied them locally). Default true. */
  skipOwnOrigin?: boolean;
  /** Applied-state persistence; default in Redis (see state-store.ts). */
  stateStore?: AppliedStateStore;
  dedupe?: DedupeOptions;
  /** Bound of the dead-letter stream (MAXLEN ~). Default 10,000. */
  dlqMaxLen?: number;
  /**
   * Group commit: the applied state + XACK of the batches applied within this many ms go to
   * Redis in one script (at most one commit in flight; batches applied meanwhile join the next).
   * 0 = as soon as the previous commit is done. A larger value means fewer Redis calls and, after
   * a crash, more re-delivered entries (skipped by a sink that keeps its applied state, see
   * docs/spec/redis-routing.md 5.4). Default 5 ms.
   */
  commitDelayMs?: number;
  onEvent?: (e: ConsumerEvent) => void;
}

export interface ConsumerStats {
  applied: number;
  duplicates: number;
  skippedOwn: number;
  deadLettered: number;
  trimmed: number;
  batches: number;
  lastId: string;
  /** Wall-clock lag of the last applied record (now - producer flush time), ms. */
  lastLagMs: number;
  state: ConsumerState;
}

/** starting → running → closing → closed; `failed` when start() could not complete. */
export type ConsumerState = "idle" | "starting" | "running" | "closing" | "closed" | "failed";

type RawEntry = [Buffer, Buffer[] | null];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dlqPackr = new Packr({ useRecords: false });

export class RouteConsumer {
  readonly keys: FileKeys;
  readonly group: string;
  readonly consumerName: string;
  private readonly pattern: DeliveryPattern;
  private readonly commands: RedisClient;
  private readonly reader: RedisClient;
  private readonly store: AppliedStateStore;
  private window: DedupeWindow;
  private lastId = "0-0";
  private stateName: ConsumerState = "idle";
  private loop: Promise<void> | null = null;
  private needRecover = true;
  private lastClaimAt = 0;
  private commitChain: Promise<void> = Promise.resolve();
  /** Entries applied (or dead-lettered, or found trimmed) and not yet acknowledged. */
  private pendingAck: string[] = [];
  private commitTimer: NodeJS.Timeout | null = null;
  private commitRunning = false;
  /** Producer flush time of the last applied record; lastLagMs is computed once per batch from it. */
  private lastSentAt = 0;
  /** Dedupe key of the last frame's (origin, epoch): consecutive frames of one producer reuse it. */
  private keyOrigin = "";
  private keyEpoch = "";
  private key = "";
  /** The blocking read's arguments and RESP bytes: the same for every read of a given BLOCK timeout. */
  private readCmd: { block: number; args: (string | Buffer)[]; wire: Buffer } | null = null;
  /** The blocking read last sent (close() settles it if the client does not). */
  private reading: Command | null = null;
  /** What the read loop is awaiting: named in a close timeout, so a hang says where it is. */
  private phase = "idle";
  private readonly s = { applied: 0, duplicates: 0, skippedOwn: 0, deadLettered: 0, trimmed: 0, batches: 0, lastLagMs: 0 };

  constructor(private readonly o: RouteConsumerOptions) {
    assertId("node", o.nodeId);
    this.keys = fileKeys(o.file);
    this.pattern = o.pattern ?? "broadcast";
    this.group = groupName(this.pattern, o.nodeId);
    this.consumerName = o.nodeId;
    this.commands = createRedisClient(o.redis, "commands");
    this.reader = createRedisClient(o.redis, "reader");
    for (const c of [this.commands, this.reader]) c.on("error", () => undefined);
    this.store = o.stateStore ?? new RedisAppliedStateStore(this.commands, this.keys, o.nodeId);
    this.window = new DedupeWindow(o.dedupe);
  }

  get state(): ConsumerState {
    return this.stateName;
  }

  /** Connects, loads the applied state, ensures the group and starts the read loop. */
  async start(): Promise<void> {
    if (this.stateName !== "idle") throw new RoutingError("ROUTE_INVALID_CONFIG", `consumer already ${this.stateName}`);
    this.stateName = "starting";
    try {
      await Promise.all([connectClient(this.commands), connectClient(this.reader)]);
      const saved = await this.store.load();
      if (saved) {
        this.window = new DedupeWindow(this.o.dedupe, saved.window);
        this.lastId = saved.lastId;
      }
      await this.ensureGroup();
    } catch (e) {
      this.stateName = "failed";
      this.commands.disconnect();
      this.reader.disconnect();
      throw e;
    }
    this.stateName = "running";
    this.o.onEvent?.({ type: "started", lastId: this.lastId, group: this.group });
    this.loop = this.run();
  }

  stats(): ConsumerStats {
    return { ...this.s, lastId: this.lastId, state: this.stateName };
  }

  /**
   * Re-reads retained entries from `fromId` (inclusive) to `toId` and hands their records to
   * `handler` (default: the apply callback), bypassing the dedupe window: a replay is an
   * explicit request to see records again (rebuilding a mapping, a new reader). It does not
   * move the group or the applied state. Returns the number of records replayed.
   */
  async replay(fromId: string, opts: { toId?: string; handler?: ApplyFn; includeOwn?: boolean } = {}): Promise<number> {
    const handler = opts.handler ?? this.o.apply;
    let start = fromId;
    let n = 0;
    for (;;) {
      const page = (await this.commands.callBuffer("XRANGE", [this.keys.stream, start, opts.toId ?? "+", "COUNT", 256])) as RawEntry[];
      if (!page.length) return n;
      for (const [idBuf, fields] of page) {
        if (!fields) continue;
        for (const rec of decodeFrame(idBuf.toString(), fields)) {
          if (!opts.includeOwn && rec.origin === this.o.nodeId && this.o.skipOwnOrigin !== false) continue;
          await handler(rec);
          n++;
        }
      }
      start = `(${page[page.length - 1]![0].toString()}`;
    }
  }

  /**
   * Stops reading: interrupts the blocking read, lets the batch in progress finish and commit
   * (up to `graceMs`), closes both connections. Idempotent.
   */
  async close(graceMs = 10_000): Promise<void> {
    if (this.stateName === "closed" || this.stateName === "closing") {
      await this.loop?.catch(() => undefined);
      return;
    }
    const wasRunning = this.stateName === "running";
    this.stateName = "closing";
    // The blocking XREADGROUP lives on the reader connection only: closing it rejects the read
    // at once, whatever BLOCK timeout it was given. Not always: a read that was in flight when
    // the connection dropped waits in ioredis to be re-sent after the reconnect, and
    // disconnect() during the reconnect delay only cancels the reconnect (ioredis 6.0.0), so
    // the read would never settle. It is rejected here, whatever state the client is in.
    this.reader.disconnect();
    this.reading?.reject(new RoutingError("ROUTE_CLOSED", "consumer closed"));
    let timedOut = false;
    if (wasRunning && this.loop) {
      let timer: NodeJS.Timeout | undefined;
      timedOut = await Promise.race([
        this.loop.then(() => this.flushCommits()).then(() => false, () => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs))),
      ]);
      clearTimeout(timer);
    }
    this.commands.disconnect();
    this.stateName = "closed";
    if (timedOut) {
      throw new RoutingError(
        "ROUTE_CLOSE_TIMEOUT",
        `consumer ${this.consumerName} did not finish its batch within ${graceMs} ms (loop: ${this.phase}; reader ${this.reader.status}, ${(this.reader as unknown as { commandQueue?: { length: number } }).commandQueue?.length ?? "?"} queued; commit ${this.commitRunning ? "in flight" : "idle"}, ${this.pendingAck.length} unacknowledged)`,
      );
    }
  }

  private get closing(): boolean {
    return this.stateName !== "running";
  }

  private async ensureGroup(): Promise<void> {
    // A group that does not exist yet starts at startId; if we have applied state (the group
    // vanished with Redis data), it restarts right after the last applied id.
    const at = this.lastId !== "0-0" ? this.lastId : (this.o.startId ?? "$");
    try {
      await this.commands.call("XGROUP", ["CREATE", this.keys.stream, this.group, at, "MKSTREAM"]);
      if (this.lastId !== "0-0") this.o.onEvent?.({ type: "group-recreated", at });
    } catch (e) {
      if (!String((e as Error).message).includes("BUSYGROUP")) throw e;
    }
  }

  private read(): Promise<unknown> {
    const block = this.pattern === "queue" ? Math.min(this.o.blockMs ?? 5000, this.claimIdle()) : (this.o.blockMs ?? 5000);
    let rc = this.readCmd;
    if (!rc || rc.block !== block) {
      const args = [
        "GROUP", this.group, this.consumerName,
        "COUNT", String(this.o.batchSize ?? 64),
        "BLOCK", String(block),
        "STREAMS", this.keys.stream, ">",
      ];
      rc = this.readCmd = { block, args, wire: encodeCommand(["XREADGROUP", ...args]) };
    }
    // Encoded once, written as is: no per-argument conversion on every read (connection.ts).
    const cmd = new PreEncodedCommand("XREADGROUP", rc.args, rc.wire);
    this.reading = cmd;
    return this.reader.sendCommand(cmd) as Promise<unknown>;
  }

  private async run(): Promise<void> {
    let backoff = 50;
    while (!this.closing) {
      try {
        if (this.needRecover) {
          this.phase = "recovering pending";
          await this.recoverOwnPending();
          this.needRecover = false;
        }
        if (this.pattern === "queue") {
          this.phase = "claiming stale";
          await this.claimStale();
        }
        // Apply first, then ask for more: writing the next XREADGROUP before applying would wake
        // Redis on a busy machine and delay the apply of the records already here. The commit
        // does not sit between the two either (group commit, scheduleCommit).
        this.phase = "reading";
        const entries = streamEntries(await this.read());
        this.phase = "applying";
        if (entries.length) await this.processEntries(entries);
        backoff = 50;
      } catch (e) {
        if (this.closing) break;
        const msg = String((e as Error).message);
        const conn = isConnectionError(e);
        this.o.onEvent?.({ type: "error", error: msg, connection: conn });
        // Entries may have been delivered to us with the reply lost: re-read our pending list.
        this.needRecover = true;
        this.phase = "backing off";
        if (msg.includes("NOGROUP")) {
          try {
            await this.ensureGroup();
          } catch {
            /* retried next round */
          }
        }
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 1000);
      }
    }
    this.phase = "stopped";
  }

  private claimIdle(): number {
    return this.o.claimIdleMs ?? 30_000;
  }

  /** Own pending entries first: delivered to this consumer before a crash or a lost reply. */
  private async recoverOwnPending(): Promise<void> {
    let total = 0;
    if (this.pattern === "broadcast") {
      // The group is this node's alone, so every pending entry is ours: claim them all (idle 0).
      let cursor = "0-0";
      do {
        const [next, entries, deleted] = (await this.commands.callBuffer("XAUTOCLAIM", [
          this.keys.stream, this.group, this.consumerName, 0, cursor, "COUNT", this.o.batchSize ?? 64,
        ])) as [Buffer, RawEntry[], Buffer[]?];
        cursor = next.toString();
        if (deleted?.length) this.reportTrimmed(deleted.map(String));
        if (entries.length) {
          total += entries.length;
          await this.processEntries(entries);
        }
      } while (cursor !== "0-0" && !this.closing);
    } else {
      // Shared group: only this consumer's own history (XREADGROUP with an id, not ">").
      let from = "0";
      for (;;) {
        const res = (await this.commands.callBuffer("XREADGROUP", [
          "GROUP", this.group, this.consumerName, "COUNT", this.o.batchSize ?? 64, "STREAMS", this.keys.stream, from,
        ]));
        const entries = streamEntries(res);
        if (!entries.length || this.closing) break;
        total += entries.length;
        await this.processEntries(entries);
        from = entries[entries.length - 1]![0].toString();
      }
    }
    if (total) this.o.onEvent?.({ type: "recovered", entries: total, source: "pending" });
  }

  /** Queue pattern: take over entries another (dead) consumer left pending longer than claimIdleMs. */
  private async claimStale(): Promise<void> {
    const now = Date.now();
    if (now - this.lastClaimAt < this.claimIdle() / 2) return;
    this.lastClaimAt = now;
    let cursor = "0-0";
    let total = 0;
    do {
      const [next, entries, deleted] = (await this.commands.callBuffer("XAUTOCLAIM", [
        this.keys.stream, this.group, this.consumerName, this.claimIdle(), cursor, "COUNT", this.o.batchSize ?? 64,
      ])) as [Buffer, RawEntry[], Buffer[]?];
      cursor = next.toString();
      if (deleted?.length) this.reportTrimmed(deleted.map(String));
      if (entries.length) {
        total += entries.length;
        await this.processEntries(entries);
      }
    } while (cursor !== "0-0" && !this.closing);
    if (total) this.o.onEvent?.({ type: "recovered", entries: total, source: "claimed" });
  }

  private reportTrimmed(ids: string[]): void {
    this.s.trimmed += ids.length;
    this.o.onEvent?.({ type: "trimmed", ids });
  }

  private async processEntries(entries: RawEntry[]): Promise<void> {
    let trimmed: string[] | null = null;
    const skipOwn = this.o.skipOwnOrigin !== false;
    for (let e = 0; e < entries.length; e++) {
      const entry = entries[e]!;
      const id = streamIdString(entry[0]);
      const fields = entry[1];
      if (!fields) {
        // Pending entry that retention trimmed before we applied it: nothing left to apply.
        (trimmed ??= []).push(id);
        this.pendingAck.push(id);
        continue;
      }
      let records: RoutedRecord[];
      try {
        records = decodeFrame(id, fields);
      } catch (err) {
        await this.deadLetterFrame(id, fields, err as Error);
        this.advance(id);
        this.pendingAck.push(id);
        continue;
      }
      if (records.length) {
        const first = records[0]!;
        if (first.origin === this.o.nodeId && skipOwn) {
          this.s.skippedOwn += records.length;
        } else {
          if (first.origin !== this.keyOrigin || first.epoch !== this.keyEpoch) {
            this.keyOrigin = first.origin;
            this.keyEpoch = first.epoch;
            this.key = DedupeWindow.key(first.origin, first.epoch);
          }
          const key = this.key;
          for (let r = 0; r < records.length; r++) {
            const rec = records[r]!;
            if (this.window.seenKey(key, rec.seq)) {
              this.s.duplicates++;
              continue;
            }
            // Synchronous apply callbacks (the common case) cost no await per record.
            const pending = this.applyOnce(rec);
            if (pending) await pending;
            this.window.markAppliedKey(key, rec.seq);
          }
        }
      }
      this.advance(id);
      this.pendingAck.push(id);
    }
    if (trimmed) this.reportTrimmed(trimmed);
    if (this.lastSentAt) this.s.lastLagMs = Date.now() - this.lastSentAt;
    this.s.batches++;
    this.scheduleCommit();
  }

  /**
   * Applies one record. Returns undefined when it was applied synchronously, else a promise
   * that settles once it was applied (with retries) or dead-lettered.
   */
  private applyOnce(rec: RoutedRecord): Promise<void> | undefined {
    let r: Promise<void> | void;
    try {
      r = this.o.apply(rec);
    } catch (e) {
      return this.applyWithRetry(rec, 1, e);
    }
    if (r && typeof (r as Promise<void>).then === "function") {
      return (r as Promise<void>).then(
        () => this.applied(rec),
        (e: unknown) => this.applyWithRetry(rec, 1, e),
      );
    }
    this.applied(rec);
    return undefined;
  }

  private applied(rec: RoutedRecord): void {
    this.s.applied++;
    this.lastSentAt = rec.sentAt;
  }

  /**
   * Group commit (state + XACK): at most one in flight, never awaited by the read loop (the next
   * XREADGROUP goes out while it travels). Commits stay ordered; the in-memory window already
   * knows the records, so anything re-read before the commit lands is skipped as a duplicate.
   * The state is taken when the commit is sent, so it covers every acknowledged entry.
   */
  private scheduleCommit(): void {
    if (this.commitTimer || this.commitRunning || !this.pendingAck.length) return;
    const delay = this.o.commitDelayMs ?? 5;
    this.commitTimer = setTimeout(() => {
      this.commitTimer = null;
      this.runCommit();
    }, delay);
  }

  private runCommit(): Promise<void> {
    if (this.commitRunning || !this.pendingAck.length) return this.commitChain;
    const ackIds = this.pendingAck;
    this.pendingAck = [];
    const state = { lastId: this.lastId, window: this.window.snapshot() };
    this.commitRunning = true;
    this.commitChain = this.commit(state, ackIds)
      .catch((e: Error) => {
        this.needRecover = true;
        this.o.onEvent?.({ type: "error", error: `commit failed: ${e.message}`, connection: isConnectionError(e) });
      })
      .finally(() => {
        this.commitRunning = false;
        if (this.stateName === "running") this.scheduleCommit();
      });
    return this.commitChain;
  }

  /** Sends every pending commit now and waits for them (close()). */
  private async flushCommits(): Promise<void> {
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = null;
    for (let i = 0; i < 3 && (this.commitRunning || this.pendingAck.length); i++) {
      await this.commitChain;
      await this.runCommit();
    }
  }

  private advance(id: string): void {
    if (compareStreamIds(id, this.lastId) > 0) this.lastId = id;
  }

  /** Retries a record whose first attempt failed with `firstError`; dead-letters it after maxAttempts. */
  private async applyWithRetry(rec: RoutedRecord, failed: number, firstError: unknown): Promise<void> {
    const max = Math.max(1, this.o.maxAttempts ?? 5);
    let delay = this.o.retryDelayMs ?? 20;
    let err = firstError;
    for (let attempt = failed; ; attempt++) {
      const error = (err as Error)?.message ?? String(err);
      if (attempt >= max) {
        await this.deadLetterRecord(rec, error, attempt);
        return;
      }
      this.o.onEvent?.({ type: "apply-failed", streamId: rec.streamId, index: rec.index, error, attempt });
      await sleep(delay);
      delay = Math.min(delay * 2, 2000);
      try {
        await this.o.apply(rec);
        this.applied(rec);
        return;
      } catch (e) {
        err = e;
      }
    }
  }

  private async deadLetterRecord(rec: RoutedRecord, error: string, attempts: number): Promise<void> {
    await this.addDeadLetter([
      "src", rec.streamId, "i", String(rec.index),
      "o", rec.origin, "e", rec.epoch, "s", String(rec.seq),
      "k", rec.kind, "n", rec.name, "p", Buffer.from(rec.payload),
      ...(rec.hlc ? ["h", `${rec.hlc.wallMs}.${rec.hlc.counter}`] : []),
      "err", error, "a", String(attempts), "node", this.o.nodeId, "at", String(Date.now()),
    ]);
    this.s.deadLettered++;
    this.o.onEvent?.({ type: "dead-lettered", streamId: rec.streamId, index: rec.index, error, attempts });
  }

  private async deadLetterFrame(id: string, fields: Buffer[], err: Error): Promise<void> {
    await this.addDeadLetter([
      "src", id, "i", "-1", "err", err.message, "a", "0", "node", this.o.nodeId, "at", String(Date.now()),
      "raw", Buffer.from(dlqPackr.pack(fields)),
    ]);
    this.s.deadLettered++;
    this.o.onEvent?.({ type: "dead-lettered", streamId: id, index: -1, error: err.message, attempts: 0 });
  }

  private async addDeadLetter(fields: (string | Buffer)[]): Promise<void> {
    // Retried until Redis takes it: dropping a dead letter would lose the record for good.
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        await this.commands.call("XADD", [this.keys.dlq, "MAXLEN", "~", this.o.dlqMaxLen ?? 10_000, "*", ...fields]);
        return;
      } catch (e) {
        if (this.stateName === "closed") throw e;
        await sleep(delay);
      }
    }
  }

  private async commit(state: AppliedState, ackIds: string[]): Promise<void> {
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        const acked = await this.store.save(state, { stream: this.keys.stream, group: this.group, ids: ackIds });
        if (!acked && ackIds.length) await this.commands.call("XACK", [this.keys.stream, this.group, ...ackIds]);
        return;
      } catch (e) {
        // The records are applied and the window in memory knows it; if Redis stays down the
        // entries remain pending and are skipped as duplicates when re-read.
        if (this.stateName === "closed" || !isConnectionError(e)) throw e;
        await sleep(delay);
      }
    }
  }
}

/**
 * A stream id ("<ms>-<seq>", ASCII digits) from its reply bytes. Built in JS: once per entry on
 * the delivery path, where Buffer#toString's native call cost ~10 µs more per message (measured
 * at one message per ms); anything else falls back to toString.
 */
function streamIdString(b: Buffer): string {
  const n = b.length;
  if (n > 41) return b.toString("latin1");
  let s = "";
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c > 0x7f) return b.toString();
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Entries of an XREAD/XREADGROUP reply for one stream. ioredis 6 returns a one-stream reply
 * flattened as `[key, entries]` (Redis sends `[[key, entries]]`); accept both.
 */
function streamEntries(res: unknown): RawEntry[] {
  if (!Array.isArray(res) || !res.length) return [];
  if (Buffer.isBuffer(res[0]) || typeof res[0] === "string") return (res[1] as RawEntry[] | undefined) ?? [];
  return ((res[0] as [Buffer, RawEntry[]])[1] as RawEntry[] | undefined) ?? [];
}

/** Reads the newest dead letters of a file (for the UI and the API). */
export async function readDeadLetters(
  client: RedisClient,
  file: FileRef,
  count = 100,
): Promise<{ id: string; fields: Record<string, string> }[]> {
  const rows = (await client.call("XREVRANGE", [fileKeys(file).dlq, "+", "-", "COUNT", count])) as [string, string[]][];
  return rows.map(([id, kv]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < kv.length; i += 2) fields[kv[i]!] = kv[i + 1]!;
    return { id, fields };
  });
}
