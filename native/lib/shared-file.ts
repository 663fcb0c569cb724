/**
 * SharedFile: the only entry point the rest of Commy uses for shared files.
 *
 * A SharedFile maps one file MAP_SHARED. Its bytes are exposed to this
 * wrapper as an external ArrayBuffer, over which Variable and Stream do their
 * hot-path work with Atomics; the addon is called for create/open/validate,
 * futex waits and wakes, and dead-owner lock recovery.
 */
import { existsSync } from "node:fs";
import { dirname } from "node:path";

import { addon, type NativeHandle, type NativeLayout } from "./binding.js";
import { CommyError, native } from "./errors.js";
import {
  validateCreateOptions,
  validateOpenOptions,
  validatePath,
  type CreateOptions,
  type OpenOptions,
  type OverflowPolicy,
} from "./options.js";
import { Stream } from "./stream.js";
import { Variable } from "./variable.js";

/** The two kinds of shared file. */
export type SharedFileKind = "variables" | "stream";

/** A memory-mapped shared file (kind "variables" or "stream"). */
export class SharedFile {
  /** Path it was created or opened at (null when opened from a descriptor). */
  readonly path: string | null;
  /** "variables" or "stream". */
  readonly kind: SharedFileKind;
  /** True when mapped PROT_READ. */
  readonly readOnly: boolean;
  /** Random 64-bit id (16 hex digits) of this file's incarnation: a file
   * re-created at the same path has a different generation. */
  readonly generation: string;
  /** File size in bytes (= mapping size). */
  readonly totalSize: number;
  /** pid of the process that created the file. */
  readonly creatorPid: number;
  /** Creation time, ms since the epoch. */
  readonly createdAt: Date;
  /** @internal */ closed = false;
  /** @internal */ readonly handle: NativeHandle;
  /** @internal */ readonly i32: Int32Array;
  /** @internal */ readonly b64: BigInt64Array;
  /** @internal */ readonly u8: Uint8Array;
  /** @internal */ readonly f64: Float64Array;
  /** @internal */ readonly lockWord: number;
  /** @internal */ readonly lockTimeoutMs: number;
  readonly #layout: NativeLayout;
  readonly #variables = new Map<string, Variable>();
  #stream: Stream | null = null;

  private constructor(handle: NativeHandle, path: string | null, lockTimeoutMs: number) {
    this.handle = handle;
    this.path = path;
    this.lockTimeoutMs = lockTimeoutMs;
    this.#layout = handle.layout();
    this.kind = this.#layout.kind === 1 ? "variables" : "stream";
    this.readOnly = handle.readOnly;
    this.lockWord = handle.lockWord;
    this.generation = this.#layout.generation;
    this.totalSize = this.#layout.totalSize;
    this.creatorPid = this.#layout.creatorPid;
    this.createdAt = new Date(this.#layout.createdNs / 1e6);
    const buffer = handle.buffer;
    this.i32 = new Int32Array(buffer);
    this.b64 = new BigInt64Array(buffer);
    this.u8 = new Uint8Array(buffer);
    this.f64 = new Float64Array(buffer);
  }

  /**
   * Creates a new shared file at `path` (its directory must exist; the worker
   * uses one directory per tenant). The file is fully initialized under a
   * temporary name and then linked into place, so no opener ever sees a
   * half-written header. Fails with COMMY_E_EXISTS unless `overwrite`.
   * @throws CommyError COMMY_E_INVALID_ARGUMENT, COMMY_E_TOO_LARGE, COMMY_E_EXISTS, COMMY_E_NOT_FOUND, COMMY_E_IO
   */
  static create(path: string, options: CreateOptions): SharedFile {
    validatePath(path);
    const v = validateCreateOptions(options);
    if (!existsSync(dirname(path))) throw new CommyError("COMMY_E_NOT_FOUND", `directory does not exist: ${dirname(path)}`);
    const o = v.options;
    const spec =
      o.kind === "variables"
        ? { kind: 1 as const, slots: o.slots.map((s) => ({ name: s.name, maxSize: s.maxSize })) }
        : {
            kind: 2 as const,
            capacity: o.capacity,
            messageMaxSize: o.messageMaxSize,
            maxConsumers: o.maxConsumers ?? 16,
            refuse: o.overflow === "refuse",
          };
    const handle = native(() => addon.SharedFileHandle.create(path, spec, v.mode, v.overwrite));
    return new SharedFile(handle, path, v.lockTimeoutMs);
  }

  /**
   * Opens and validates an existing shared file. A corrupted, truncated,
   * foreign or newer-version file fails with a typed error
   * (COMMY_E_CORRUPT / COMMY_E_TRUNCATED / COMMY_E_BAD_MAGIC / COMMY_E_VERSION).
   */
  static open(path: string, options?: OpenOptions): SharedFile {
    validatePath(path);
    const o = validateOpenOptions(options);
    const handle = native(() => addon.SharedFileHandle.open(path, o.readOnly));
    return new SharedFile(handle, path, o.lockTimeoutMs);
  }

  /**
   * Maps a file from a descriptor (e.g. one received over a Unix socket with
   * SCM_RIGHTS). The descriptor is duplicated: the caller still owns `fd`.
   * Pass a descriptor opened O_RDONLY to clients that must not write: a
   * PROT_READ mapping of a writable descriptor could be re-mapped writable.
   */
  static openFd(fd: number, options?: OpenOptions): SharedFile {
    if (!Number.isInteger(fd) || fd < 0) throw new CommyError("COMMY_E_INVALID_ARGUMENT", "fd must be a non-negative integer");
    const o = validateOpenOptions(options);
    const handle = native(() => addon.SharedFileHandle.openFd(fd, o.readOnly));
    return new SharedFile(handle, null, o.lockTimeoutMs);
  }

  /**
   * How notify-mode waits sleep in this thread: "io_uring" (Linux >= 6.7: a
   * FUTEX_WAIT request completed by the event loop itself, no thread
   * hand-off) or "threads" (a native waiter thread per pending wait, woken
   * results handed to the event loop); `reason` says why io_uring is not
   * used. COMMY_WAIT_BACKEND=threads forces the fallback.
   */
  static waitBackend(): { backend: "io_uring" | "threads"; reason: string } {
    return addon.waitBackend();
  }

  /** The descriptor of the open file (owned by this SharedFile; closed by close()). */
  get fd(): number {
    this.#checkOpen();
    return this.handle.fd;
  }

  /** Names of the variables, in file order (kind "variables"). */
  variableNames(): string[] {
    this.#checkOpen();
    return (this.#layout.slots ?? []).map((s) => s.name);
  }

  /**
   * The variable called `name` (the same object on every call).
   * @throws CommyError COMMY_E_KIND on a stream file, COMMY_E_UNKNOWN_VARIABLE
   */
  variable(name: string): Variable {
    this.#checkOpen();
    if (this.kind !== "variables") throw new CommyError("COMMY_E_KIND", "not a variables file");
    let v = this.#variables.get(name);
    if (v) return v;
    const slots = this.#layout.slots ?? [];
    const index = slots.findIndex((s) => s.name === name);
    const s = slots[index];
    if (!s) throw new CommyError("COMMY_E_UNKNOWN_VARIABLE", `no variable "${name}" in this file`);
    v = new Variable(this, index, s.name, s.maxSize, s.offset, s.bufferOffset, s.bufferStep);
    this.#variables.set(name, v);
    return v;
  }

  /**
   * The stream (kind "stream").
   * @throws CommyError COMMY_E_KIND on a variables file
   */
  get stream(): Stream {
    this.#checkOpen();
    if (this.kind !== "stream") throw new CommyError("COMMY_E_KIND", "not a stream file");
    if (!this.#stream) {
      const l = this.#layout;
      const overflow: OverflowPolicy = (l.flags & 1) !== 0 ? "refuse" : "overwrite";
      this.#stream = new Stream(this, l.regionOffset, l.ringOffset!, l.capacity!, l.messageMaxSize!, l.slotStride!, overflow);
    }
    return this.#stream;
  }

  /**
   * Unmaps and closes. Idempotent. Pending waits reject with COMMY_E_CLOSED;
   * every view over the mapping (readView results included) becomes empty
   * (the ArrayBuffer is detached) before the memory is unmapped, so nothing
   * can touch unmapped memory.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handle.close();
  }

  #checkOpen(): void {
    if (this.closed) throw new CommyError("COMMY_E_CLOSED", "shared file is closed");
  }
}
