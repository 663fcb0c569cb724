/**
 * Loads the compiled addon and describes its (internal) surface. Nothing
 * outside native/lib may import this file: the wrapper validates arguments
 * and owns the protocols; the addon trusts it for little more than bounds.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Layout as validated by the C++ header validator at open time. */
export interface NativeLayout {
  kind: 1 | 2;
  flags: number;
  totalSize: number;
  generation: string;
  creatorPid: number;
  createdNs: number;
  regionOffset: number;
  slots?: { name: string; maxSize: number; offset: number; stride: number; bufferOffset: number; bufferStep: number }[];
  capacity?: number;
  messageMaxSize?: number;
  slotStride?: number;
  maxConsumers?: number;
  ringOffset?: number;
}

export interface NativeCreateSpec {
  kind: 1 | 2;
  slots?: { name: string; maxSize: number }[];
  capacity?: number;
  messageMaxSize?: number;
  maxConsumers?: number;
  refuse?: boolean;
}

export interface NativeHandle {
  readonly buffer: ArrayBuffer;
  readonly fd: number;
  readonly readOnly: boolean;
  readonly lockWord: number;
  layout(): NativeLayout;
  close(): void;
  acquireSlotLock(slotIndex: number, timeoutMs: number): boolean;
  acquireStreamLock(timeoutMs: number): boolean;
  wake(offset: number): void;
  wait(offset: number, expected: number, waitersOffset: number, timeoutMs: number, spinMicros: number): Promise<0 | 1 | 2>;
  minCursor(reclaim: boolean): number;
  registerConsumer(start: number): number;
  unregisterConsumer(index: number): void;
  appendPacked(data: Uint8Array, lengths: Uint32Array, count: number, timeoutMs: number, partial: boolean): number;
  readBatch(state: Float64Array, out: Uint8Array, lengths: Uint32Array, max: number): number;
  writeVar(slotIndex: number, data: Uint8Array, timeoutMs: number): number;
  readVar(slotIndex: number, out: Uint8Array, meta: Uint32Array): number;
  ownerAlive(lockWord: number): boolean;
}

export interface NativeHandleStatic {
  create(path: string, spec: NativeCreateSpec, mode: number, overwrite: boolean): NativeHandle;
  open(path: string, readOnly: boolean): NativeHandle;
  openFd(fd: number, readOnly: boolean): NativeHandle;
}

export interface NativeModule {
  SharedFileHandle: NativeHandleStatic;
  tid(): number;
  /** Which wait backend this thread's env uses ("io_uring": futex waits
   * completed by the event loop, no thread; "threads": waiter threads). */
  waitBackend(): { backend: "io_uring" | "threads"; reason: string };
  formatVersion: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const addonPath = join(here, "..", "build", "Release", "commy_native.node");

function load(): NativeModule {
  if (!existsSync(addonPath)) {
    throw new Error(
      `commy native addon not built (${addonPath} missing): run \`npm run build:native\``,
    );
  }
  return createRequire(import.meta.url)(addonPath) as NativeModule;
}

/** The addon, loaded once per thread (each worker_thread gets its own env). */
export const addon: NativeModule = load();
