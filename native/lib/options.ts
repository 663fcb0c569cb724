/**
 * Option types and their validation. The wrapper validates everything before
 * the addon sees it, so users get a CommyError naming the field; the C++ core
 * re-checks bounds on its own (it must be safe even if called wrongly).
 */
import { CommyError } from "./errors.js";
import { LIMITS } from "./layout.js";

/** A named variable slot: values up to `maxSize` bytes. */
export interface SlotDefinition {
  /** 1..40 bytes of UTF-8, unique within the file. */
  name: string;
  /** Largest value the slot accepts, 1 B..16 MiB. */
  maxSize: number;
}

interface CommonCreateOptions {
  /** File permission bits (default 0o600: only the creating user). */
  mode?: number;
  /** Replace an existing file atomically (default false: COMMY_E_EXISTS). */
  overwrite?: boolean;
  /** Largest total file size accepted (default 1 GiB). */
  maxFileSize?: number;
  /** See {@link OpenOptions.lockTimeoutMs}. */
  lockTimeoutMs?: number;
}

/** kind "variables": named latest-value slots with versions. */
export interface VariablesCreateOptions extends CommonCreateOptions {
  kind: "variables";
  slots: readonly SlotDefinition[];
}

/** What a producer does when the ring is full. */
export type OverflowPolicy = "overwrite" | "refuse";

/** kind "stream": an ordered ring of messages. */
export interface StreamCreateOptions extends CommonCreateOptions {
  kind: "stream";
  /** Number of message slots; a power of two, 2..2^24. */
  capacity: number;
  /** Largest message, 1 B..1 MiB. */
  messageMaxSize: number;
  /** "overwrite" (default): oldest messages are overwritten and slow readers
   * count them in `lost`. "refuse": append throws COMMY_E_STREAM_FULL while
   * the slowest registered consumer is `capacity` messages behind. */
  overflow?: OverflowPolicy;
  /** Registered consumer cursors the file can hold (0..256, default 16). */
  maxConsumers?: number;
}

export type CreateOptions = VariablesCreateOptions | StreamCreateOptions;

export interface OpenOptions {
  /** Map PROT_READ: writes are impossible (they fault), not just refused. */
  readOnly?: boolean;
  /** How long a writer waits for a lock held by a LIVE process before
   * throwing COMMY_E_LOCK_TIMEOUT (default 5000 ms). Locks of dead
   * processes are broken promptly regardless. */
  lockTimeoutMs?: number;
}

const utf8 = new TextEncoder();

function fail(message: string): never {
  throw new CommyError("COMMY_E_INVALID_ARGUMENT", message);
}

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

export function validateLockTimeout(v: unknown): number {
  if (v === undefined) return 5000;
  if (typeof v !== "number" || !(v >= 0) || !Number.isFinite(v)) fail("lockTimeoutMs must be a finite number >= 0");
  return v;
}

export function validateOpenOptions(options: unknown): Required<OpenOptions> {
  if (options === undefined) return { readOnly: false, lockTimeoutMs: 5000 };
  if (typeof options !== "object" || options === null) fail("options must be an object");
  const o = options as OpenOptions;
  if (o.readOnly !== undefined && typeof o.readOnly !== "boolean") fail("readOnly must be a boolean");
  return { readOnly: o.readOnly ?? false, lockTimeoutMs: validateLockTimeout(o.lockTimeoutMs) };
}

export function validatePath(path: unknown): string {
  if (typeof path !== "string" || path.length === 0) fail("path must be a non-empty string");
  if (path.includes("\0")) fail("path must not contain NUL");
  return path;
}

/** Bytes a layout needs, mirroring HeaderValidator::Build (for maxFileSize). */
function align(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

export function estimateSize(o: CreateOptions): number {
  if (o.kind === "variables") {
    let end = align(4096 + o.slots.length * 64, 64);
    for (const s of o.slots) end += 128 + 2 * align(s.maxSize, 64);
    return align(end, 4096);
  }
  const consumers = o.maxConsumers ?? 16;
  const ring = align(128 + consumers * 64, 64);
  return align(4096 + ring + o.capacity * align(16 + o.messageMaxSize, 8), 4096);
}

export interface ValidatedCreate {
  options: CreateOptions;
  mode: number;
  overwrite: boolean;
  lockTimeoutMs: number;
}

export function validateCreateOptions(options: unknown): ValidatedCreate {
  if (typeof options !== "object" || options === null) fail("options must be an object");
  const o = options as Partial<VariablesCreateOptions> & Partial<StreamCreateOptions> & { kind?: unknown };
  const mode = o.mode ?? 0o600;
  if (!isInt(mode) || mode < 0 || mode > 0o777) fail("mode must be an integer in 0..0o777");
  if (o.overwrite !== undefined && typeof o.overwrite !== "boolean") fail("overwrite must be a boolean");
  const maxFileSize = o.maxFileSize ?? 1024 ** 3;
  if (!isInt(maxFileSize) || maxFileSize < 4096) fail("maxFileSize must be an integer >= 4096");
  const lockTimeoutMs = validateLockTimeout(o.lockTimeoutMs);

  let validated: CreateOptions;
  if (o.kind === "variables") {
    if (!Array.isArray(o.slots) || o.slots.length === 0) fail("slots must be a non-empty array");
    if (o.slots.length > LIMITS.maxSlots) fail(`at most ${LIMITS.maxSlots} slots`);
    const seen = new Set<string>();
    const slots: SlotDefinition[] = [];
    o.slots.forEach((s: unknown, i: number) => {
      if (typeof s !== "object" || s === null) fail(`slots[${i}] must be {name, maxSize}`);
      const { name, maxSize } = s as SlotDefinition;
      if (typeof name !== "string" || name.length === 0) fail(`slots[${i}].name must be a non-empty string`);
      const bytes = utf8.encode(name).length;
      if (bytes > LIMITS.maxNameBytes) fail(`slots[${i}].name is ${bytes} bytes; the limit is ${LIMITS.maxNameBytes}`);
      if (name.includes("\0")) fail(`slots[${i}].name must not contain NUL`);
      if (seen.has(name)) fail(`duplicate slot name "${name}"`);
      seen.add(name);
      if (!isInt(maxSize) || maxSize < 1 || maxSize > LIMITS.maxValueSize)
        fail(`slots[${i}].maxSize must be an integer in 1..${LIMITS.maxValueSize}`);
      slots.push({ name, maxSize });
    });
    validated = { kind: "variables", slots };
  } else if (o.kind === "stream") {
    const { capacity, messageMaxSize } = o;
    const maxConsumers = o.maxConsumers ?? 16;
    const overflow = o.overflow ?? "overwrite";
    if (!isInt(capacity) || capacity < LIMITS.minCapacity || capacity > LIMITS.maxCapacity || (capacity & (capacity - 1)) !== 0)
      fail(`capacity must be a power of two in ${LIMITS.minCapacity}..${LIMITS.maxCapacity}`);
    if (!isInt(messageMaxSize) || messageMaxSize < 1 || messageMaxSize > LIMITS.maxMessageSize)
      fail(`messageMaxSize must be an integer in 1..${LIMITS.maxMessageSize}`);
    if (!isInt(maxConsumers) || maxConsumers < 0 || maxConsumers > LIMITS.maxConsumers)
      fail(`maxConsumers must be an integer in 0..${LIMITS.maxConsumers}`);
    if (overflow !== "overwrite" && overflow !== "refuse") fail('overflow must be "overwrite" or "refuse"');
    if (overflow === "refuse" && maxConsumers === 0) fail('overflow "refuse" needs maxConsumers >= 1');
    validated = { kind: "stream", capacity, messageMaxSize, maxConsumers, overflow };
  } else {
    fail('kind must be "variables" or "stream"');
  }
  const size = estimateSize(validated);
  if (size > maxFileSize)
    throw new CommyError("COMMY_E_TOO_LARGE", `file would be ${size} bytes, above maxFileSize ${maxFileSize}`);
  return { options: validated, mode, overwrite: o.overwrite ?? false, lockTimeoutMs };
}

/** How to wait for a change. */
export interface WaitOptions {
  /** "spin": busy-poll on the JS thread (lowest latency, blocks the thread
   * until the change or the timeout). "notify" (default): a native thread
   * sleeps in FUTEX_WAIT; the JS thread stays free. */
  mode?: "spin" | "notify";
  /** notify mode: spin-then-park. Poll on the calling (JS) thread for up
   * to this many microseconds before sleeping in the kernel; a change that
   * arrives within the window is seen with no wake-up or thread hand-off at
   * all. Blocks the event loop for at most this long per wait (default 0). */
  spinMicros?: number;
  /** Give up after this long (default: wait forever). */
  timeoutMs?: number;
}

export function validateWaitOptions(o: WaitOptions | undefined): { mode: "spin" | "notify"; spinMicros: number; timeoutMs: number } {
  const mode = o?.mode ?? "notify";
  if (mode !== "spin" && mode !== "notify") fail('mode must be "spin" or "notify"');
  const spinMicros = o?.spinMicros ?? 0;
  if (typeof spinMicros !== "number" || !(spinMicros >= 0) || spinMicros > 1_000_000) fail("spinMicros must be in 0..1e6");
  const timeoutMs = o?.timeoutMs ?? -1;
  if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs) || (timeoutMs < 0 && timeoutMs !== -1))
    fail("timeoutMs must be >= 0");
  return { mode, spinMicros, timeoutMs };
}
