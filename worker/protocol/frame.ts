/**
 * Framing of the Commy local socket protocol (docs/spec/socket-protocol.md).
 *
 * Every frame is a fixed 12-byte header followed by a msgpack body:
 *
 *   offset size field
 *   0      2    magic      0x43 0x59 ("CY")
 *   2      1    version    PROTOCOL_VERSION (1)
 *   3      1    type       MessageType
 *   4      4    requestId  u32 LE; 0 for unsolicited worker events
 *   8      4    bodyLength u32 LE; <= the negotiated maximum
 *
 * This module is shared by the worker and the client library and imports nothing from either.
 * The decoder is written for hostile input: it never allocates more than the frame limit, never
 * throws on bad bytes (it reports a typed `FrameError` and stops), and never reads past the
 * buffer it was given.
 */
import { Packr } from "msgpackr";

export const FRAME_MAGIC_0 = 0x43; // 'C'
export const FRAME_MAGIC_1 = 0x59; // 'Y'
export const PROTOCOL_VERSION = 1;
export const FRAME_HEADER_SIZE = 12;
/** Default and hard maximum body size. A worker may announce a smaller one in WELCOME. */
export const DEFAULT_MAX_BODY = 1 << 20;

/** Message types. Numbers are part of the wire contract: never renumber, only append. */
export const MessageType = {
  HELLO: 0x01,
  WELCOME: 0x02,
  OPEN: 0x03,
  OPENED: 0x04,
  CLOSE: 0x05,
  CLOSED: 0x06,
  HEARTBEAT: 0x07,
  HEARTBEAT_ACK: 0x08,
  ERROR: 0x09,
  EVENT: 0x0a,
  FETCH_FD: 0x0b,
  FD: 0x0c,
  LEASE: 0x0d,
  LEASED: 0x0e,
} as const;
export type MessageTypeName = keyof typeof MessageType;
export type MessageTypeCode = (typeof MessageType)[MessageTypeName];

const TYPE_NAMES = new Map<number, MessageTypeName>(
  (Object.entries(MessageType) as [MessageTypeName, number][]).map(([k, v]) => [v, k]),
);

/** The name of a message type code, or undefined for codes this version does not know. */
export function messageTypeName(code: number): MessageTypeName | undefined {
  return TYPE_NAMES.get(code);
}

/** One decoded frame. `body` is the msgpack-decoded value, still unvalidated. */
export interface Frame {
  type: MessageTypeCode;
  requestId: number;
  body: unknown;
}

/** Why a byte stream was rejected. Once a decoder has failed it stays failed: framing is lost. */
export class FrameError extends Error {
  constructor(
    readonly code: "BAD_MAGIC" | "UNSUPPORTED_VERSION" | "UNKNOWN_TYPE" | "FRAME_TOO_LARGE" | "BAD_BODY",
    message: string,
    /** The request id of the offending frame when the header was readable (so the peer can be told which). */
    readonly requestId = 0,
  ) {
    super(message);
    this.name = "FrameError";
  }
}

// Plain maps and arrays only: no msgpackr records or structures, so any msgpack implementation
// in another language can speak the protocol.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, bundleStrings: false });

/** Encodes one frame. Throws RangeError when the body exceeds `maxBody` (a bug in the sender). */
export function encodeFrame(type: MessageTypeCode, requestId: number, body: unknown, maxBody = DEFAULT_MAX_BODY): Buffer {
  const payload = packr.pack(withoutUndefined(body ?? null));
  if (payload.length > maxBody) throw new RangeError(`frame body of ${payload.length} bytes exceeds ${maxBody}`);
  const out = Buffer.allocUnsafe(FRAME_HEADER_SIZE + payload.length);
  out[0] = FRAME_MAGIC_0;
  out[1] = FRAME_MAGIC_1;
  out[2] = PROTOCOL_VERSION;
  out[3] = type;
  out.writeUInt32LE(requestId >>> 0, 4);
  out.writeUInt32LE(payload.length, 8);
  payload.copy(out, FRAME_HEADER_SIZE);
  return out;
}

/**
 * Drops object properties whose value is undefined (msgpackr would encode them as an extension
 * type, which the protocol does not allow): an absent optional field is simply not sent.
 */
function withoutUndefined(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutUndefined);
  if (v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = withoutUndefined(x);
    return out;
  }
  return v;
}

/** Decodes a msgpack body without trusting it: any failure becomes a BAD_BODY FrameError. */
export function decodeBody(bytes: Buffer, requestId: number): unknown {
  if (bytes.length === 0) return null;
  try {
    // unpackMultiple would accept trailing values; a body is exactly one value.
    const values = packr.unpackMultiple(bytes) as unknown[];
    if (values.length !== 1) throw new Error(`expected one value, found ${values.length}`);
    const value = values[0];
    if (!isPlainValue(value, 0)) throw new Error("body holds a msgpack type outside the protocol (extension, reserved byte or nesting deeper than 32)");
    return value;
  } catch (e) {
    throw new FrameError("BAD_BODY", `body is not valid msgpack: ${(e as Error).message}`, requestId);
  }
}

/**
 * Only JSON-like values and byte strings are part of the protocol. msgpackr maps extension types
 * and the reserved 0xc1 byte to special objects; accepting them would let a client smuggle
 * non-plain objects (Dates, class instances) into code that expects schema-shaped data.
 */
function isPlainValue(v: unknown, depth: number): boolean {
  if (depth > 32) return false;
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") return true;
  if (v instanceof Uint8Array) return true;
  if (Array.isArray(v)) return v.every((x) => isPlainValue(x, depth + 1));
  if (typeof v === "object") {
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    for (const k of Object.keys(v as object)) {
      if (k === "__proto__") return false;
      if (!isPlainValue((v as Record<string, unknown>)[k], depth + 1)) return false;
    }
    return true;
  }
  return false;
}

/**
 * Incremental decoder for a byte stream. Feed it chunks as they arrive; it returns the complete
 * frames found so far and keeps partial ones. Buffers at most one frame (header + max body).
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failed: FrameError | null = null;

  constructor(private readonly maxBody = DEFAULT_MAX_BODY) {}

  /** Number of bytes held waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Appends `chunk` and returns every complete frame. On malformed input throws a `FrameError`
   * (after returning nothing from the bad frame onwards); later calls throw the same error.
   */
  push(chunk: Buffer): Frame[] {
    if (this.failed) throw this.failed;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < FRAME_HEADER_SIZE) break;
      const head = this.peek(FRAME_HEADER_SIZE);
      const err = checkHeader(head, this.maxBody);
      if (err) {
        this.failed = err;
        this.chunks = [];
        this.buffered = 0;
        if (frames.length === 0) throw err;
        // Deliver the good frames first; the error surfaces on the next push.
        return frames;
      }
      const bodyLength = head.readUInt32LE(8);
      if (this.buffered < FRAME_HEADER_SIZE + bodyLength) break;
      const whole = this.take(FRAME_HEADER_SIZE + bodyLength);
      const requestId = whole.readUInt32LE(4);
      let body: unknown;
      try {
        body = decodeBody(whole.subarray(FRAME_HEADER_SIZE), requestId);
      } catch (e) {
        // A bad body does not lose framing (the length was valid), so the stream can go on:
        // report it as a frame-level error the caller can answer and continue.
        frames.push({ type: whole[3] as MessageTypeCode, requestId, body: new BadBody(e as FrameError) });
        continue;
      }
      frames.push({ type: whole[3] as MessageTypeCode, requestId, body });
    }
    return frames;
  }

  /** The error that stopped this decoder, if any. */
  get error(): FrameError | null {
    return this.failed;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!.subarray(0, n);
    const merged = Buffer.concat(this.chunks);
    this.chunks = [merged];
    return merged.subarray(0, n);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const merged = Buffer.concat(this.chunks);
      out = merged.subarray(0, n);
      this.chunks = merged.length > n ? [merged.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }
}

/** Marks a frame whose header was fine but whose msgpack body was not. */
export class BadBody {
  constructor(readonly error: FrameError) {}
}

function checkHeader(head: Buffer, maxBody: number): FrameError | null {
  const requestId = head.readUInt32LE(4);
  if (head[0] !== FRAME_MAGIC_0 || head[1] !== FRAME_MAGIC_1) return new FrameError("BAD_MAGIC", "bad frame magic");
  if (head[2] !== PROTOCOL_VERSION)
    return new FrameError("UNSUPPORTED_VERSION", `protocol version ${head[2]} is not supported (this side speaks ${PROTOCOL_VERSION})`, requestId);
  if (!TYPE_NAMES.has(head[3]!)) return new FrameError("UNKNOWN_TYPE", `unknown message type 0x${head[3]!.toString(16)}`, requestId);
  const len = head.readUInt32LE(8);
  if (len > maxBody) return new FrameError("FRAME_TOO_LARGE", `frame body of ${len} bytes exceeds the limit of ${maxBody}`, requestId);
  return null;
}
