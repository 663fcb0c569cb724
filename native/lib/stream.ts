/**
 * Stream files: a multi-producer ring with broadcast readers.
 *
 * Protocol (docs/spec/shared-file-format.md "Streams"; same code in
 * native/src/ring.h): producers serialize on one robust lock; holding it, a
 * producer writes position p = head into slot p % capacity as
 * tag = writing(p), len/seq/data, tag = published(p), then stores
 * head = p + 1 and releases. Readers keep their own cursor and accept a slot
 * only if its tag reads published(p) before and after the copy and its seq
 * field equals p; otherwise the 64-bit head tells them whether the message
 * is not there yet or was overwritten (and exactly how many they lost).
 *
 * One-at-a-time append and next() run in TypeScript over the mapping;
 * appendPacked() and readBatch() are single native calls for whole batches.
 */
import type { NativeHandle } from "./binding.js";
import { CommyError, native } from "./errors.js";
import { STREAM, publishedTag, writingTag } from "./layout.js";
import { validateWaitOptions, type OverflowPolicy, type WaitOptions } from "./options.js";

const TWO32 = 4294967296;

/** Internal view of the file a Stream belongs to. */
export interface StreamHost {
  readonly handle: NativeHandle;
  readonly i32: Int32Array;
  readonly b64: BigInt64Array;
  readonly u8: Uint8Array;
  readonly f64: Float64Array;
  readonly readOnly: boolean;
  readonly lockWord: number;
  readonly lockTimeoutMs: number;
  readonly closed: boolean;
}

/** One message read from a stream. */
export interface StreamMessage {
  /** Sequence number: 0 for the first message ever appended, +1 each. */
  seq: number;
  /** A private copy of the message bytes. */
  data: Uint8Array;
}

/** Where a new reader starts. */
export type ReaderStart = "earliest" | "latest" | number;

export interface ReaderOptions {
  /** "latest" (default): only messages appended from now on. "earliest": the
   * oldest message still in the ring. A number: that sequence number. */
  from?: ReaderStart;
  /** Store this reader's cursor in the file so that overflow "refuse"
   * producers wait for it. Default: true for writable handles on a "refuse"
   * stream. A registered reader must be closed (or its process exit) to stop
   * holding producers back; dead processes are unregistered automatically. */
  register?: boolean;
}

/** The stream of a shared file of kind "stream". */
export class Stream {
  /** Number of slots in the ring. */
  readonly capacity: number;
  /** Largest message in bytes. */
  readonly messageMaxSize: number;
  /** Overflow policy chosen at creation. */
  readonly overflow: OverflowPolicy;

  /** @internal */ readonly host: StreamHost;
  /** @internal */ readonly ctl: number;
  /** @internal */ readonly ring: number;
  /** @internal */ readonly stride: number;
  /** @internal */ readonly mask: number;
  readonly #lockIdx: number;
  readonly #waitersIdx: number;
  readonly #headIdx64: number;
  /** @internal */ readonly headLoIdx: number;
  /** @internal */ readonly headHiIdx: number;
  /** @internal */ readonly spaceSeqIdx: number;
  /** @internal */ readonly spaceWaitersIdx: number;
  #minCursorCache = 0;
  #lastData: Uint8Array | null = null;
  #lastData32: Int32Array | null = null;

  /** @internal use {@link SharedFile.stream}. */
  constructor(host: StreamHost, ctl: number, ring: number, capacity: number, messageMaxSize: number, stride: number, overflow: OverflowPolicy) {
    this.host = host;
    this.ctl = ctl;
    this.ring = ring;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.messageMaxSize = messageMaxSize;
    this.stride = stride;
    this.overflow = overflow;
    this.#lockIdx = (ctl + STREAM.lock) >> 2;
    this.#waitersIdx = (ctl + STREAM.waiters) >> 2;
    this.#headIdx64 = (ctl + STREAM.headLo) >> 3;
    this.headLoIdx = (ctl + STREAM.headLo) >> 2;
    this.headHiIdx = (ctl + STREAM.headHi) >> 2;
    this.spaceSeqIdx = (ctl + STREAM.spaceSeq) >> 2;
    this.spaceWaitersIdx = (ctl + STREAM.spaceWaiters) >> 2;
  }

  /** @internal head as a number without a BigInt: hi, lo, hi again (the
   * high half only changes together with the low one, in one 64-bit store). */
  loadHead(): number {
    const i32 = this.host.i32;
    for (;;) {
      const hi = Atomics.load(i32, this.headHiIdx);
      const lo = Atomics.load(i32, this.headLoIdx) >>> 0;
      if (Atomics.load(i32, this.headHiIdx) === hi) return (hi >>> 0) * TWO32 + lo;
    }
  }

  /** Sequence number the next appended message will get (= messages ever appended). */
  get head(): number {
    this.#checkOpen();
    return this.loadHead();
  }

  /** Appends refused because the stream was full (all processes). */
  get refused(): number {
    this.#checkOpen();
    return Atomics.load(this.host.i32, (this.ctl + STREAM.refused) >> 2) >>> 0;
  }

  /** Producer locks broken after a producer died holding the lock. */
  get recoveries(): number {
    this.#checkOpen();
    return Atomics.load(this.host.i32, (this.ctl + STREAM.recoveries) >> 2) >>> 0;
  }

  /**
   * Appends one message; returns its sequence number.
   * @throws CommyError COMMY_E_STREAM_FULL (refuse policy), COMMY_E_TOO_LARGE, COMMY_E_READ_ONLY, COMMY_E_LOCK_TIMEOUT
   */
  append(data: Uint8Array): number {
    this.#checkWritable();
    if (!(data instanceof Uint8Array)) throw new CommyError("COMMY_E_INVALID_ARGUMENT", "data must be a Uint8Array");
    if (data.length > this.messageMaxSize)
      throw new CommyError("COMMY_E_TOO_LARGE", `message is ${data.length} bytes; the stream's limit is ${this.messageMaxSize}`);
    this.#lock();
    const head = this.#lockedHead();
    if (this.overflow === "refuse" && !this.#hasRoom(head, 1)) this.#refuse(head);
    this.#writeSlot(head, data);
    this.#commit(head, head + 1);
    return head;
  }

  /**
   * Like {@link append}, but never throws COMMY_E_STREAM_FULL: returns the
   * message's sequence number, or -1 when the stream is full (refuse policy;
   * counted in {@link refused}). Pair with {@link waitForSpace}.
   */
  tryAppend(data: Uint8Array): number {
    this.#checkWritable();
    if (!(data instanceof Uint8Array)) throw new CommyError("COMMY_E_INVALID_ARGUMENT", "data must be a Uint8Array");
    if (data.length > this.messageMaxSize)
      throw new CommyError("COMMY_E_TOO_LARGE", `message is ${data.length} bytes; the stream's limit is ${this.messageMaxSize}`);
    this.#lock();
    const head = this.#lockedHead();
    if (this.overflow === "refuse" && !this.#hasRoom(head, 1)) {
      this.#unlockRefused();
      return -1;
    }
    this.#writeSlot(head, data);
    this.#commit(head, head + 1);
    return head;
  }

  /**
   * Appends several messages under one lock acquisition (all or nothing
   * under the refuse policy); returns the first one's sequence number.
   */
  appendBatch(messages: readonly Uint8Array[]): number {
    this.#checkWritable();
    const n = messages.length;
    for (let i = 0; i < n; i++) {
      const m = messages[i];
      if (!(m instanceof Uint8Array)) throw new CommyError("COMMY_E_INVALID_ARGUMENT", `messages[${i}] must be a Uint8Array`);
      if (m.length > this.messageMaxSize)
        throw new CommyError("COMMY_E_TOO_LARGE", `messages[${i}] is ${m.length} bytes; the limit is ${this.messageMaxSize}`);
    }
    if (this.overflow === "refuse" && n > this.capacity)
      throw new CommyError("COMMY_E_STREAM_FULL", `a batch of ${n} cannot fit a ring of ${this.capacity}`);
    if (n === 0) return this.head;
    this.#lock();
    const head = this.#lockedHead();
    if (this.overflow === "refuse" && !this.#hasRoom(head, n)) this.#refuse(head);
    for (let i = 0; i < n; i++) this.#writeSlot(head + i, messages[i]!);
    this.#commit(head, head + n);
    return head;
  }

  /**
   * Appends `count` messages packed back to back in `data` (lengths in
   * `lengths`) with a single native call: the fastest way to publish a batch.
   * Returns the first sequence number.
   */
  appendPacked(data: Uint8Array, lengths: Uint32Array, count = lengths.length): number {
    this.#checkWritable();
    return native(() => this.host.handle.appendPacked(data, lengths, count, this.host.lockTimeoutMs, false));
  }

  /**
   * Appends the longest prefix of the packed batch that fits (one native
   * call, one lock acquisition, never throws COMMY_E_STREAM_FULL) and returns
   * how many messages were appended: `count` under the overwrite policy, 0..count
   * under refuse. Messages [returned, count) were not appended; retry them
   * after {@link waitForSpace}. The appended ones got consecutive sequence
   * numbers ending at {@link head} - 1.
   */
  tryAppendPacked(data: Uint8Array, lengths: Uint32Array, count = lengths.length): number {
    this.#checkWritable();
    return native(() => this.host.handle.appendPacked(data, lengths, count, this.host.lockTimeoutMs, true));
  }

  /**
   * Resolves true once `n` more messages would fit under the refuse policy
   * (at once for "overwrite"), false on timeout. Space is re-checked when a
   * registered consumer advances (it bumps a futex word only while a
   * producer waits) and at least every 10 ms, which also reclaims the cursors
   * of dead consumers. Another producer may take the space first: treat true
   * as "try again", e.g. `while (s.tryAppendPacked(...) === 0) await s.waitForSpace(n)`.
   */
  async waitForSpace(n = 1, options?: WaitOptions): Promise<boolean> {
    this.#checkWritable();
    if (!Number.isSafeInteger(n) || n < 1 || n > this.capacity)
      throw new CommyError("COMMY_E_INVALID_ARGUMENT", `n must be an integer in 1..${this.capacity}`);
    const o = validateWaitOptions(options);
    if (this.overflow === "overwrite") return true;
    const host = this.host;
    const i32 = host.i32;
    const deadline = o.timeoutMs >= 0 ? performance.now() + o.timeoutMs : Infinity;
    const spinUntil = o.mode === "spin" ? deadline : o.spinMicros > 0 ? performance.now() + o.spinMicros / 1000 : 0;
    for (let k = 0; ; k++) {
      if (this.#spaceFor(n, k > 0)) return true;
      const t = performance.now();
      if (t >= deadline) return false;
      if (t < spinUntil) continue;
      // Load the futex word, then re-check the space: a consumer advancing
      // after this load bumps the word, so the wait returns at once (the
      // native side counts us as a waiter, then compares the word).
      const expected = Atomics.load(i32, this.spaceSeqIdx) >>> 0;
      if (this.#spaceFor(n, false)) return true;
      const slice = Math.min(10, deadline - t);
      const r = await native(() =>
        host.handle.wait(this.ctl + STREAM.spaceSeq, expected, this.ctl + STREAM.spaceWaiters, Math.max(0, slice), 0),
      );
      if (r === 2) throw new CommyError("COMMY_E_CLOSED", "shared file closed while waiting");
      if (host.closed) throw new CommyError("COMMY_E_CLOSED", "shared file is closed");
    }
  }

  /** Creates a reader with its own cursor. */
  reader(options?: ReaderOptions): StreamReader {
    this.#checkOpen();
    const from = options?.from ?? "latest";
    const head = this.head;
    let start: number;
    if (from === "latest") start = head;
    else if (from === "earliest") start = Math.max(0, head - this.capacity);
    else if (Number.isSafeInteger(from) && from >= 0) start = from;
    else throw new CommyError("COMMY_E_INVALID_ARGUMENT", 'from must be "earliest", "latest" or a sequence number');
    const register = options?.register ?? (!this.host.readOnly && this.overflow === "refuse");
    if (typeof register !== "boolean") throw new CommyError("COMMY_E_INVALID_ARGUMENT", "register must be a boolean");
    if (register && this.host.readOnly)
      throw new CommyError("COMMY_E_READ_ONLY", "a read-only handle cannot register a cursor in the file");
    const index = register ? native(() => this.host.handle.registerConsumer(start)) : -1;
    return new StreamReader(this, start, index);
  }

  // ---- internals (lock held from #lock to #commit) ----

  #lock(): void {
    const host = this.host;
    if (Atomics.compareExchange(host.i32, this.#lockIdx, 0, host.lockWord) !== 0) {
      // Slow path in C++: spins, yields, breaks a dead producer's lock and
      // commits what it had fully published before we continue.
      native(() => host.handle.acquireStreamLock(host.lockTimeoutMs));
    }
  }

  /** Head while holding the producer lock: only lock holders write it. */
  #lockedHead(): number {
    const i32 = this.host.i32;
    return (i32[this.headHiIdx]! >>> 0) * TWO32 + (i32[this.headLoIdx]! >>> 0);
  }

  #spaceFor(n: number, reclaim: boolean): boolean {
    const head = this.loadHead();
    if (head + n - this.#minCursorCache <= this.capacity) return true;
    this.#minCursorCache = this.host.handle.minCursor(reclaim);
    return head + n - this.#minCursorCache <= this.capacity;
  }

  #unlockRefused(): void {
    const i32 = this.host.i32;
    Atomics.store(i32, this.#lockIdx, 0);
    Atomics.add(i32, (this.ctl + STREAM.refused) >> 2, 1);
  }

  #hasRoom(head: number, n: number): boolean {
    // Cursors only grow, so a stale cached minimum is conservative.
    if (head + n - this.#minCursorCache <= this.capacity) return true;
    this.#minCursorCache = this.host.handle.minCursor(false);
    if (head + n - this.#minCursorCache <= this.capacity) return true;
    this.#minCursorCache = this.host.handle.minCursor(true); // drop dead consumers
    return head + n - this.#minCursorCache <= this.capacity;
  }

  #refuse(head: number): never {
    this.#unlockRefused();
    throw new CommyError(
      "COMMY_E_STREAM_FULL",
      `stream full: the slowest consumer is ${head - this.#minCursorCache} messages behind (capacity ${this.capacity})`,
    );
  }

  #writeSlot(pos: number, data: Uint8Array): void {
    const i32 = this.host.i32;
    const slot = this.ring + (pos & this.mask) * this.stride;
    const t = slot >> 2;
    // "writing" first, so a reader still copying this slot's previous lap
    // sees the tag change and discards its copy.
    Atomics.store(i32, t, writingTag(pos));
    const len = data.length;
    i32[t + 1] = len;
    i32[t + 2] = pos >>> 0;
    i32[t + 3] = Math.floor(pos / TWO32);
    const dst = slot + STREAM.slotData;
    if (len <= 256) {
      // Small messages: a word loop beats TypedArray.prototype.set's fixed
      // cost. The Int32Array view over `data` is cached for the common case
      // of a reused buffer.
      if (data !== this.#lastData) {
        this.#lastData = data;
        this.#lastData32 = (data.byteOffset & 3) === 0 ? new Int32Array(data.buffer, data.byteOffset, len >> 2) : null;
      }
      const d32 = this.#lastData32;
      let i = 0;
      if (d32 !== null && d32.length === len >> 2) {
        const w = dst >> 2;
        const words = len >> 2;
        for (; i < words; i++) i32[w + i] = d32[i]!;
        i <<= 2;
      }
      const u8 = this.host.u8;
      for (; i < len; i++) u8[dst + i] = data[i]!;
    } else {
      this.host.u8.set(data, dst);
    }
    Atomics.store(i32, t, publishedTag(pos));
  }

  #commit(oldHead: number, newHead: number): void {
    const i32 = this.host.i32;
    // Same high half: one 32-bit store of the low half is the 64-bit store.
    if (Math.floor(oldHead / TWO32) === Math.floor(newHead / TWO32)) Atomics.store(i32, this.headLoIdx, newHead | 0);
    else Atomics.store(this.host.b64, this.#headIdx64, BigInt(newHead));
    Atomics.store(i32, this.#lockIdx, 0);
    if (Atomics.load(i32, this.#waitersIdx) > 0) this.host.handle.wake(this.ctl + STREAM.headLo);
  }

  #checkOpen(): void {
    if (this.host.closed) throw new CommyError("COMMY_E_CLOSED", "shared file is closed");
  }

  #checkWritable(): void {
    this.#checkOpen();
    if (this.host.readOnly) throw new CommyError("COMMY_E_READ_ONLY", "shared file was opened read-only");
  }
}

/** A cursor over a stream. Not shared: each reader sees every message once. */
export class StreamReader {
  /** Messages skipped because they were overwritten before this reader got
   * to them (overwrite policy, or an unregistered reader). Exact. */
  lost = 0;
  /** Sequence number of the last message returned by next()/nextInto(). */
  lastSeq = -1;

  readonly #s: Stream;
  #pos: number;
  readonly #consumer: number;
  #closed = false;
  readonly #state = new Float64Array(2);
  #lastOut: Uint8Array | null = null;
  #lastOut64: Float64Array | null = null;
  readonly #cursorLoIdx: number;
  readonly #cursorIdx64: number;

  /** @internal use {@link Stream.reader}. */
  constructor(stream: Stream, start: number, consumerIndex: number) {
    this.#s = stream;
    this.#pos = start;
    this.#consumer = consumerIndex;
    const cursor = stream.ctl + STREAM.consumers + Math.max(0, consumerIndex) * STREAM.consumerSize + STREAM.consCursor;
    this.#cursorLoIdx = cursor >> 2;
    this.#cursorIdx64 = cursor >> 3;
  }

  /** Sequence number of the next message this reader will return. */
  get position(): number {
    return this.#pos;
  }

  /** Messages appended but not yet read by this reader (may include ones it will lose). */
  get backlog(): number {
    return Math.max(0, this.#s.head - this.#pos);
  }

  /** Next message as a private copy, or null if there is none yet. */
  next(): StreamMessage | null {
    const tmp = new Uint8Array(this.#s.messageMaxSize);
    const len = this.nextInto(tmp);
    if (len < 0) return null;
    return { seq: this.lastSeq, data: tmp.slice(0, len) };
  }

  /**
   * Copies the next message into `out` and returns its length, or -1 if there
   * is none yet; its sequence number is in {@link lastSeq}. No allocation.
   */
  nextInto(out: Uint8Array): number {
    const s = this.#s;
    const host = s.host;
    if (this.#closed || host.closed) throw new CommyError("COMMY_E_CLOSED", "reader or file is closed");
    const i32 = host.i32;
    const u8 = host.u8;
    for (let attempt = 0; ; attempt++) {
      const pos = this.#pos;
      const slot = s.ring + (pos & s.mask) * s.stride;
      const t = slot >> 2;
      const want = publishedTag(pos);
      if (Atomics.load(i32, t) === want) {
        const len = i32[t + 1]! >>> 0;
        const seqOk = i32[t + 2]! >>> 0 === pos >>> 0 && i32[t + 3]! >>> 0 === Math.floor(pos / TWO32);
        const fits = seqOk && len <= s.messageMaxSize && len <= out.length;
        if (fits) {
          const src = slot + STREAM.slotData;
          if (len <= 256) {
            // 8 bytes per step (slot data is 8-aligned; Float64Array copies
            // keep the bits, see Variable.readInto); the view over `out` is
            // cached for the usual reused buffer.
            if (out !== this.#lastOut) {
              this.#lastOut = out;
              this.#lastOut64 = (out.byteOffset & 7) === 0 ? new Float64Array(out.buffer, out.byteOffset, out.length >> 3) : null;
            }
            const o64 = this.#lastOut64;
            let i = 0;
            if (o64 !== null) {
              const n8 = len >> 3;
              const s8 = src >> 3;
              const f64 = host.f64;
              for (; i < n8; i++) o64[i] = f64[s8 + i]!;
              i <<= 3;
            }
            for (; i < len; i++) out[i] = u8[src + i]!;
          } else out.set(u8.subarray(src, src + len));
        }
        if (Atomics.load(i32, t) === want && seqOk) {
          if (len > s.messageMaxSize) throw new CommyError("COMMY_E_CORRUPT", "stream slot length exceeds messageMaxSize");
          if (!fits) throw new CommyError("COMMY_E_INVALID_ARGUMENT", `out holds ${out.length} bytes; the message has ${len}`);
          this.lastSeq = pos;
          this.#advance(pos + 1);
          return len;
        }
      }
      // Slow path: is it not there yet, or overwritten?
      const head = s.loadHead();
      if (pos >= head) return -1;
      if (head - pos >= s.capacity) {
        const resume = head - s.capacity + 1;
        this.lost += resume - pos;
        this.#advance(resume);
        continue;
      }
      // Committed and recent, yet not published(pos): either our tag load
      // raced the commit (re-check), or a batch still in progress (head not
      // advanced yet) already reuses the slot, so pos is lost.
      if (Atomics.load(i32, t) === want) {
        if (attempt > 1000) throw new CommyError("COMMY_E_CORRUPT", `stream slot for seq ${pos} is inconsistent`);
        continue;
      }
      this.lost += 1;
      this.#advance(pos + 1);
    }
  }

  /**
   * Reads up to `max` messages with one native call, packed back to back into
   * `out` with their lengths in `lengths`. Returns how many; the first one's
   * sequence number is `position` before the call minus nothing lost (check
   * {@link lost}). Fastest way to drain a stream.
   */
  readBatch(out: Uint8Array, lengths: Uint32Array, max = lengths.length): number {
    const s = this.#s;
    if (this.#closed || s.host.closed) throw new CommyError("COMMY_E_CLOSED", "reader or file is closed");
    const st = this.#state;
    st[0] = this.#pos;
    st[1] = this.lost;
    const n = native(() => s.host.handle.readBatch(st, out, lengths, max));
    this.lost = st[1]!;
    if (n > 0) this.lastSeq = st[0]! - 1;
    this.#advance(st[0]!);
    return n;
  }

  /**
   * Resolves true when a message is available (or was lost), false on
   * timeout. See {@link WaitOptions} for the spin and notify modes.
   */
  async waitForData(options?: WaitOptions): Promise<boolean> {
    const s = this.#s;
    const host = s.host;
    if (this.#closed || host.closed) throw new CommyError("COMMY_E_CLOSED", "reader or file is closed");
    const o = validateWaitOptions(options);
    if (s.loadHead() > this.#pos) return true;
    const deadline = o.timeoutMs >= 0 ? performance.now() + o.timeoutMs : Infinity;
    if (o.mode === "spin") {
      for (let n = 1; ; n++) {
        if (s.loadHead() > this.#pos) return true;
        if ((n & 1023) === 0 && performance.now() > deadline) return false;
      }
    }
    // Spin-then-park: poll on this thread for up to spinMicros first, so a
    // message that arrives within that window costs no thread hand-off.
    if (o.spinMicros > 0) {
      const until = Math.min(deadline, performance.now() + o.spinMicros / 1000);
      for (let n = 1; ; n++) {
        if (s.loadHead() > this.#pos) return true;
        if ((n & 31) === 0 && performance.now() > until) break;
      }
    }
    // Load the futex word first, then re-check: a commit in between changes
    // the word, so FUTEX_WAIT returns at once instead of missing it.
    const expected = Atomics.load(host.i32, s.headLoIdx) >>> 0;
    if (s.loadHead() > this.#pos) return true;
    const left = deadline === Infinity ? -1 : Math.max(0, deadline - performance.now());
    const r = await native(() => host.handle.wait(s.ctl + STREAM.headLo, expected, s.ctl + STREAM.waiters, left, 0));
    if (r === 2) throw new CommyError("COMMY_E_CLOSED", "shared file closed while waiting");
    return r === 0 || s.loadHead() > this.#pos;
  }

  /** Unregisters the cursor (if registered). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#consumer >= 0 && !this.#s.host.closed) {
      native(() => this.#s.host.handle.unregisterConsumer(this.#consumer));
      this.#wakeProducers();
    }
  }

  #advance(pos: number): void {
    const old = this.#pos;
    this.#pos = pos;
    if (this.#consumer >= 0) {
      const s = this.#s;
      const i32 = s.host.i32;
      // Same high half: a 32-bit store of the low half is the 64-bit store
      // (no BigInt on the per-message path).
      if (Math.floor(old / TWO32) === Math.floor(pos / TWO32)) Atomics.store(i32, this.#cursorLoIdx, pos | 0);
      else Atomics.store(s.host.b64, this.#cursorIdx64, BigInt(pos));
      if (Atomics.load(i32, s.spaceWaitersIdx) > 0) this.#wakeProducers();
    }
  }

  /** A producer waits in waitForSpace: bump the space word and wake it. */
  #wakeProducers(): void {
    const s = this.#s;
    Atomics.add(s.host.i32, s.spaceSeqIdx, 1);
    s.host.handle.wake(s.ctl + STREAM.spaceSeq);
  }
}
