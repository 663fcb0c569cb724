/**
 * One variable slot, read and written in TypeScript directly over the mapping.
 *
 * The protocol is specified in docs/spec/shared-file-format.md ("Variables")
 * and implemented identically in native/src/seqlock.h: a double-buffered
 * seqlock. The published value is buffer[version & 1] (len bytes); a
 * writer (holding the slot lock) fills the other buffer and publishes it
 * with one 64-bit store of {version + 1, len}. Version and length have a
 * cache line of their own (format v2), apart from the writers' lock line,
 * so a busy-polling reader's line changes hands exactly once per write; a
 * slot of at most 28 bytes keeps both buffers in that line too (format v3),
 * so a small write moves one cache line in all. A reader loads version, copies, loads version again, and
 * accepts only if both loads agree. Reads never cross into C++ (that is what
 * makes a 64 B read cost tens of nanoseconds); C++ is only called to break a
 * dead writer's lock and to FUTEX_WAKE sleepers.
 *
 * Memory ordering: the plain loads of the copy sit between two Atomics.load
 * calls. V8 does not move typed-array accesses across Atomics operations, and
 * x86-64 does not reorder loads with loads, so the second version load is
 * ordered after the copy. On other architectures the wrapper uses the native
 * read (with an explicit acquire fence) instead.
 */
import type { NativeHandle } from "./binding.js";
import { CommyError, native } from "./errors.js";
import { VAR } from "./layout.js";
import { validateWaitOptions, type WaitOptions } from "./options.js";

const X64 = process.arch === "x64";
const FAST_READ = X64;

/** Internal view of the file a Variable belongs to. */
export interface VariableHost {
  readonly handle: NativeHandle;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly f64: Float64Array;
  readonly readOnly: boolean;
  readonly lockWord: number;
  readonly lockTimeoutMs: number;
  readonly closed: boolean;
}

/** Result of {@link Variable.read}. */
export interface VariableValue {
  /** Version of the value: 0 before the first write, +1 per write. */
  version: number;
  /** A private copy of the value. */
  data: Uint8Array;
}

/** A zero-copy view; see {@link Variable.readView}. */
export interface VariableView {
  version: number;
  /** Bytes inside the mapping. They stay this value only while
   * {@link Variable.isViewValid} returns true. */
  data: Uint8Array;
}

/** A named variable of a shared file: latest value, version, change waits. */
export class Variable {
  /** The slot's name. */
  readonly name: string;
  /** Largest value the slot accepts, in bytes. */
  readonly maxSize: number;
  /** Version observed by the last read (readInto/read/readView). */
  lastVersion = 0;

  readonly #host: VariableHost;
  readonly #index: number;
  readonly #i32: Int32Array;
  readonly #u8: Uint8Array;
  readonly #lockIdx: number;
  readonly #versionIdx: number;
  readonly #waitersIdx: number;
  readonly #lenIdx: number;
  readonly #pubIdx: number; // Float64Array index of the {version, len} word
  readonly #ctl: number;
  readonly #buf0: number;
  readonly #stride: number; // buffer 0 -> buffer 1
  readonly #wide: boolean; // buffers 8-aligned (out-of-line); else inline, 4-aligned
  #lastOut: Uint8Array | null = null;
  #lastOut64: Float64Array | null = null;
  #lastOut32: Int32Array | null = null;
  #lastIn: Uint8Array | null = null;
  readonly #pub = new Uint32Array(2);
  readonly #pub64 = new Float64Array(this.#pub.buffer);
  #lastIn64: Float64Array | null = null;
  readonly #f64: Float64Array;
  #meta = new Uint32Array(2);

  /** @internal use {@link SharedFile.variable}. */
  constructor(
    host: VariableHost,
    index: number,
    name: string,
    maxSize: number,
    offset: number,
    bufferOffset: number,
    bufferStep: number,
  ) {
    this.#host = host;
    this.#index = index;
    this.name = name;
    this.maxSize = maxSize;
    this.#i32 = host.i32;
    this.#u8 = host.u8;
    this.#f64 = host.f64;
    this.#ctl = offset;
    this.#lockIdx = (offset + VAR.lock) >> 2;
    this.#versionIdx = (offset + VAR.version) >> 2;
    this.#waitersIdx = (offset + VAR.waiters) >> 2;
    this.#lenIdx = (offset + VAR.len) >> 2;
    this.#pubIdx = (offset + VAR.version) >> 3;
    // Out-of-line buffers follow the control lines; a slot of at most
    // VAR.inlineMax bytes keeps both in the readers' line (format v3), so a
    // write moves one cache line to the readers instead of two.
    this.#buf0 = offset + bufferOffset;
    this.#stride = bufferStep;
    this.#wide = ((this.#buf0 | this.#stride) & 7) === 0;
  }

  /** Current published version (0 = never written). One atomic load. */
  get version(): number {
    this.#checkOpen();
    return Atomics.load(this.#i32, this.#versionIdx) >>> 0;
  }

  /** How many times a writer's lock on this slot was broken after the
   * writer died holding it. */
  get recoveries(): number {
    this.#checkOpen();
    return Atomics.load(this.#i32, (this.#ctl + VAR.recoveries) >> 2) >>> 0;
  }

  /**
   * Publishes `data` as the new value. Safe with any number of concurrent
   * writers in any processes; readers see either the old or the new value,
   * never a mix. Returns the new version.
   * @throws CommyError COMMY_E_READ_ONLY, COMMY_E_TOO_LARGE, COMMY_E_LOCK_TIMEOUT, COMMY_E_CLOSED
   */
  write(data: Uint8Array): number {
    const host = this.#host;
    if (host.closed) throw closedError();
    if (host.readOnly) throw new CommyError("COMMY_E_READ_ONLY", "shared file was opened read-only");
    if (!(data instanceof Uint8Array)) throw new CommyError("COMMY_E_INVALID_ARGUMENT", "data must be a Uint8Array");
    const len = data.length;
    if (len > this.maxSize)
      throw new CommyError("COMMY_E_TOO_LARGE", `value is ${len} bytes; "${this.name}" holds at most ${this.maxSize}`);
    // Other architectures: the native write (same protocol, C++ atomics).
    if (!X64) return native(() => host.handle.writeVar(this.#index, data, host.lockTimeoutMs));
    const i32 = this.#i32;
    // Fast path: uncontended CAS. Otherwise C++ spins, yields, and breaks
    // the lock if (and only if) its owner is provably dead.
    if (Atomics.compareExchange(i32, this.#lockIdx, 0, host.lockWord) !== 0) {
      native(() => host.handle.acquireSlotLock(this.#index, host.lockTimeoutMs));
    }
    // Nothing below can throw: the lock is always released.
    // Each Atomics call is a builtin call (~25 ns here, more than the rest
    // of a 64 B write), so only two are used: the lock CAS above and the
    // unlock below (an XCHG on our own lock line: a full fence). The rest
    // are plain accesses, which x86-64 keeps in order (TSO) and V8 does not
    // move across the Atomics calls:
    //  - the version load (we hold the lock: only we change it);
    //  - the publication: {version, len} as ONE aligned 8-byte store (a
    //    Float64Array element: a single MOVSD, atomic on x86-64; the bits
    //    are never a NaN since len < 2^24, and are moved unchanged);
    //  - the waiters load after the fence (Dekker pairing with waiters,
    //    who increment waiters and then re-read version).
    const next = (i32[this.#versionIdx]! + 1) >>> 0;
    const dst = this.#buf0 + (next & 1) * this.#stride;
    const in64 = this.#lastIn64;
    if (!this.#wide) {
      // Inline slot: at most 28 bytes into the readers' line.
      const u8 = this.#u8;
      for (let i = 0; i < len; i++) u8[dst + i] = data[i]!;
    } else if (data === this.#lastIn && in64 !== null && in64.length === len >> 3) {
      // Same (8-aligned) source as last time: 8 bytes per step (bit-exact,
      // see readInto), no builtin call.
      const f64 = this.#f64;
      const n8 = len >> 3;
      const d8 = dst >> 3;
      let i = 0;
      for (; i < n8; i++) f64[d8 + i] = in64[i]!;
      const u8 = this.#u8;
      for (i <<= 3; i < len; i++) u8[dst + i] = data[i]!;
    } else {
      this.#u8.set(data, dst);
      this.#lastIn = data;
      this.#lastIn64 = (data.byteOffset & 7) === 0 ? new Float64Array(data.buffer, data.byteOffset, len >> 3) : null;
    }
    const pub = this.#pub;
    pub[0] = next;
    pub[1] = len;
    this.#f64[this.#pubIdx] = this.#pub64[0]!; // publish
    Atomics.store(i32, this.#lockIdx, 0); // unlock + full fence
    if (i32[this.#waitersIdx]! > 0) host.handle.wake(this.#ctl + VAR.version);
    return next;
  }

  /**
   * Copies the current value into `out` (which must hold maxSize bytes or at
   * least the value) and returns its length; the version is in
   * {@link lastVersion}. The hot path: no allocation when `out` is reused.
   * @throws CommyError COMMY_E_INVALID_ARGUMENT if out is too small, COMMY_E_CORRUPT
   */
  readInto(out: Uint8Array): number {
    if (this.#host.closed) throw closedError();
    if (!FAST_READ) return this.#readNative(out);
    const i32 = this.#i32;
    if (out !== this.#lastOut) {
      this.#lastOut = out;
      this.#lastOut64 = (out.byteOffset & 7) === 0 ? new Float64Array(out.buffer, out.byteOffset, out.byteLength >> 3) : null;
      this.#lastOut32 = (out.byteOffset & 3) === 0 ? new Int32Array(out.buffer, out.byteOffset, out.byteLength >> 2) : null;
    }
    const out64 = this.#lastOut64;
    const out32 = this.#lastOut32;
    for (;;) {
      // A plain load (x86-64 only, see write()): loads are not reordered
      // with loads, and the Atomics.load below orders the copy before it.
      const v1 = i32[this.#versionIdx]!;
      const b = v1 & 1;
      const len = i32[this.#lenIdx]! >>> 0; // published with the version, same cache line
      const fits = len <= this.maxSize && len <= out.length;
      if (fits) {
        // 8 bytes per step: Float64Array element copies move the bits
        // unchanged (a load feeding a store; tested with NaN payloads in
        // tests/native/backpressure-waits.test.ts), at half the instructions of Int32.
        const src = this.#buf0 + b * this.#stride;
        let i = 0;
        if (this.#wide) {
          if (out64 !== null) {
            const n8 = len >> 3;
            const s8 = src >> 3;
            for (; i < n8; i++) out64[i] = this.#f64[s8 + i]!;
            i <<= 3;
          }
        } else if (out32 !== null) {
          // Inline slot (4-aligned buffers): 4 bytes per step, bits unchanged.
          const n4 = len >> 2;
          const s4 = src >> 2;
          for (; i < n4; i++) out32[i] = i32[s4 + i]!;
          i <<= 2;
        }
        const u8 = this.#u8;
        for (; i < len; i++) out[i] = u8[src + i]!;
      }
      if (Atomics.load(i32, this.#versionIdx) !== v1) continue; // a writer overtook us: retry
      if (len > this.maxSize) throw new CommyError("COMMY_E_CORRUPT", `slot "${this.name}" holds a length above maxSize`);
      if (!fits) throw new CommyError("COMMY_E_INVALID_ARGUMENT", `out holds ${out.length} bytes; the value has ${len}`);
      this.lastVersion = v1 >>> 0;
      return len;
    }
  }

  /** Returns a private copy of the current value and its version. */
  read(): VariableValue {
    const out = new Uint8Array(this.maxSize);
    const len = this.readInto(out);
    return { version: this.lastVersion, data: out.subarray(0, len) };
  }

  /**
   * Zero-copy: returns the published bytes inside the mapping. A writer
   * publishing version+1 fills the other buffer, but version+2 reuses this
   * one, so the view is only trustworthy while {@link isViewValid} is true:
   * use the bytes, then check.
   */
  readView(): VariableView {
    if (this.#host.closed) throw closedError();
    const i32 = this.#i32;
    for (;;) {
      const v1 = Atomics.load(i32, this.#versionIdx);
      const b = v1 & 1;
      const buf = this.#buf0 + b * this.#stride;
      const len = Atomics.load(i32, this.#lenIdx) >>> 0;
      if (Atomics.load(i32, this.#versionIdx) !== v1) continue;
      if (len > this.maxSize) throw new CommyError("COMMY_E_CORRUPT", `slot "${this.name}" holds a length above maxSize`);
      this.lastVersion = v1 >>> 0;
      return { version: v1 >>> 0, data: this.#u8.subarray(buf, buf + len) };
    }
  }

  /** True while the bytes of `view` are still the value of `view.version`. */
  isViewValid(view: VariableView): boolean {
    if (this.#host.closed) return false;
    return (((Atomics.load(this.#i32, this.#versionIdx) >>> 0) - view.version) >>> 0) <= 1;
  }

  /**
   * Busy-polls until the version differs from `lastVersion`. Blocks the JS
   * thread; returns false on timeout. Lowest latency (sub-microsecond).
   */
  spinUntilChanged(lastVersion: number, timeoutMs = -1): boolean {
    if (this.#host.closed) throw closedError();
    const i32 = this.#i32;
    const idx = this.#versionIdx;
    const want = lastVersion | 0;
    if (Atomics.load(i32, idx) !== want) return true;
    const deadline = timeoutMs >= 0 ? performance.now() + timeoutMs : Infinity;
    for (let n = 1; ; n++) {
      // Poll with plain loads (an Atomics.load is a builtin call, ~25 ns, so
      // it would add that much to the time to notice a change), confirmed
      // by an atomic load, which also runs every 64 polls regardless.
      if (X64 && (n & 63) !== 0 ? i32[idx] !== want : true) {
        if (Atomics.load(i32, idx) !== want) return true;
      }
      if ((n & 1023) === 0) {
        if (this.#host.closed) throw closedError();
        if (performance.now() > deadline) return false;
      }
    }
  }

  /**
   * Resolves true once the version differs from `lastVersion`, false on
   * timeout. mode "notify" (default) never blocks the JS thread: the wait
   * sleeps in FUTEX_WAIT inside the kernel (io_uring, completed by the event
   * loop; or a native waiter thread on kernels without it), optionally after
   * polling on the JS thread for `spinMicros`; writers only issue FUTEX_WAKE
   * when the slot's waiter count is non-zero.
   * @throws CommyError COMMY_E_CLOSED (also when the file is closed while waiting)
   */
  async waitForChange(lastVersion: number, options?: WaitOptions): Promise<boolean> {
    if (this.#host.closed) throw closedError();
    const o = validateWaitOptions(options);
    if (o.mode === "spin") return this.spinUntilChanged(lastVersion, o.timeoutMs);
    const i32 = this.#i32;
    const idx = this.#versionIdx;
    const want = lastVersion | 0;
    if (Atomics.load(i32, idx) !== want) return true;
    let timeoutMs = o.timeoutMs;
    if (o.spinMicros > 0) {
      // Spin-then-park: poll on this thread for up to spinMicros first, so a
      // change that lands within that window costs no wake-up at all.
      const t0 = performance.now();
      const until = t0 + (timeoutMs >= 0 ? Math.min(o.spinMicros / 1000, timeoutMs) : o.spinMicros / 1000);
      for (let n = 1; ; n++) {
        if (Atomics.load(i32, idx) !== want) return true;
        if ((n & 31) === 0 && performance.now() > until) break;
      }
      if (timeoutMs >= 0) timeoutMs = Math.max(0, timeoutMs - (performance.now() - t0));
    }
    const r = await native(() =>
      this.#host.handle.wait(this.#ctl + VAR.version, lastVersion >>> 0, this.#ctl + VAR.waiters, timeoutMs, 0),
    );
    if (r === 2) throw closedError();
    return r === 0;
  }

  #readNative(out: Uint8Array): number {
    const len = native(() => this.#host.handle.readVar(this.#index, out, this.#meta));
    this.lastVersion = this.#meta[1]!;
    return len;
  }

  #checkOpen(): void {
    if (this.#host.closed) throw closedError();
  }
}

function closedError(): CommyError {
  return new CommyError("COMMY_E_CLOSED", "shared file is closed");
}
