/**
 * Stream entry format (docs/spec/redis-routing.md §3, "Entries"). One entry is one *frame*: the
 * records one producer forwarded for one file within one flush, so batching costs one XADD.
 *
 * Format version 2 (written): the entry has ONE field, `f`, whose value is the whole frame in a
 * fixed little-endian binary layout, header first:
 *
 *   u8  version = 2        u8 originLen       u8 epochLen        u8 flags = 0
 *   u32 record count       u64 first seq      u64 sent at (ms, producer wall clock)
 *   origin (ASCII)         epoch (ASCII)
 *   then per record:
 *   u8  kind (0 message, 1 variable)   u32 nameLen   u32 payloadLen
 *   [kind 1 only: u64 hlcWallMs, u64 hlcCounter]    name (UTF-8)   payload (bytes as written)
 *
 * One field instead of seven makes the XADD, the entry Redis stores and the XREADGROUP reply as
 * small as a hand-written one-field XADD, and both sides read and write the frame without a
 * general-purpose encoder: in the B5 latency trial (one 64 B message per ms, per-hop timing), a
 * plain XADD with v1's six extra field pairs took ~57 µs longer end to end than one with one.
 *
 * Format version 1 (still decoded, no longer written): fields `v`="1", `o`, `e`, `s`, `c`, `t`
 * and `b` = a msgpack array of records [0, subject, payload] / [1, slot, payload, wall, counter].
 */
import { Packr } from "msgpackr";
import { RoutingError } from "./errors";
import type { HlcStamp } from "./hlc";

/** The format version the producer writes (decodeFrame also reads version 1). */
export const FORMAT_VERSION = "2";
/** The one field of a version-2 entry. */
export const FRAME_FIELD = "f";
/** Bytes of a version-2 frame before its origin and epoch. */
const V2_FIXED = 24;
/** Bytes of a version-2 record before its name, without / with the HLC stamp. */
const V2_RECORD = 9;
const V2_STAMP = 16;
const MAX_U53_HI = 0x1fffff;

const packr = new Packr({ useRecords: false, mapsAsObjects: false, variableMapSize: true });

export type RecordKind = "message" | "variable";

/** One routed write, as the producer receives it and the consumer delivers it. */
export interface RouteRecordInput {
  kind: RecordKind;
  /** Variable slot name, or the message subject ("" when the file has none). */
  name: string;
  payload: Uint8Array;
  /** Variables only: the HLC stamp of the write (its nodeId must be the producer's). */
  hlc?: HlcStamp;
}

/** A record delivered to the apply callback. */
export interface RoutedRecord extends RouteRecordInput {
  origin: string;
  epoch: string;
  seq: number;
  /** The stream entry id of the frame that carried it. */
  streamId: string;
  /** Index of the record inside its frame. */
  index: number;
  /** Producer wall clock when the frame was flushed (ms). */
  sentAt: number;
}

export interface FrameHeader {
  origin: string;
  epoch: string;
  firstSeq: number;
  count: number;
  sentAt: number;
}

/**
 * Encodes version-2 frames of one producer incarnation. Origin and epoch are validated and
 * turned into bytes once; `encode` then writes a frame in one pass into one fresh Buffer (safe
 * to keep and resend).
 */
export class FrameEncoder {
  /** The first bytes of every frame: fixed header with count, seq and time zero, origin, epoch. */
  private readonly head: Buffer;

  constructor(origin: string, epoch: string) {
    for (const [what, v] of [["origin", origin], ["epoch", epoch]] as const) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(v)) throw new RoutingError("ROUTE_INVALID_CONFIG", `frame ${what} must match [A-Za-z0-9_-]{1,64}, got ${JSON.stringify(v)}`);
    }
    this.head = Buffer.alloc(V2_FIXED + origin.length + epoch.length);
    this.head[0] = 2;
    this.head[1] = origin.length;
    this.head[2] = epoch.length;
    this.head.write(origin + epoch, V2_FIXED, "latin1");
  }

  /**
   * The frame of one stream message (what encode(firstSeq, sentAt, [message]) returns), without
   * the generic loop: the producer's path for a record sent while its file is idle.
   */
  encodeMessage(seq: number, sentAt: number, subject: string, payload: Uint8Array): Buffer {
    const head = this.head;
    const p = head.length;
    const nameLen = subject.length ? Buffer.byteLength(subject) : 0;
    const payloadLen = payload.byteLength;
    const at = p + V2_RECORD + nameLen;
    const b = Buffer.allocUnsafe(at + payloadLen);
    // Small copies as plain loops: on the one-message-per-wakeup path they cost less than
    // TypedArray#set's native call (measured), large payloads still go through set().
    for (let i = 0; i < p; i++) b[i] = head[i]!; // version, lengths, flags 0, origin, epoch
    putU32(b, 4, 1);
    putU53(b, 8, seq);
    putU53(b, 16, sentAt);
    b[p] = 0;
    putU32(b, p + 1, nameLen);
    putU32(b, p + 5, payloadLen);
    if (nameLen) b.write(subject, p + V2_RECORD, "utf8");
    copyInto(b, at, payload);
    return b;
  }

  /** The frame of `records` whose first record has seq `firstSeq`. */
  encode(firstSeq: number, sentAt: number, records: readonly RouteRecordInput[]): Buffer {
    const n = records.length;
    let size = this.head.length;
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      size += V2_RECORD + r.payload.byteLength + (r.name.length ? Buffer.byteLength(r.name) : 0);
      if (r.kind === "variable") size += V2_STAMP;
    }
    // allocUnsafe: every byte is written below (checked at the end).
    const b = Buffer.allocUnsafe(size);
    let p = this.head.length;
    copyInto(b, 0, this.head); // version, lengths, flags 0, origin, epoch
    putU32(b, 4, n);
    putU53(b, 8, firstSeq);
    putU53(b, 16, sentAt);
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      const nameLen = r.name.length ? b.write(r.name, p + V2_RECORD + (r.kind === "variable" ? V2_STAMP : 0), "utf8") : 0;
      const payloadLen = r.payload.byteLength;
      b[p] = r.kind === "variable" ? 1 : 0;
      putU32(b, p + 1, nameLen);
      putU32(b, p + 5, payloadLen);
      p += V2_RECORD;
      if (r.kind === "variable") {
        const wallMs = r.hlc?.wallMs ?? 0;
        const counter = r.hlc?.counter ?? 0;
        if (!isStampPart(wallMs) || !isStampPart(counter)) {
          throw new RoutingError("ROUTE_INVALID_CONFIG", `HLC stamp ${wallMs}.${counter} is not made of non-negative safe integers`);
        }
        putU53(b, p, wallMs);
        putU53(b, p + 8, counter);
        p += V2_STAMP;
      }
      p += nameLen;
      copyInto(b, p, r.payload);
      p += payloadLen;
    }
    if (p !== size) throw new RoutingError("ROUTE_INVALID_CONFIG", `frame encoder wrote ${p} of ${size} bytes`);
    return b;
  }
}

function putU32(b: Buffer, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

/** A non-negative safe integer as u64 LE. */
function putU53(b: Buffer, o: number, v: number): void {
  if (!(v >= 0 && v <= Number.MAX_SAFE_INTEGER)) throw new RoutingError("ROUTE_INVALID_CONFIG", `${v} does not fit a frame's u64 field`);
  const lo = v >>> 0; // v mod 2^32, without a floating-point modulo
  putU32(b, o, lo);
  putU32(b, o + 4, (v - lo) / 0x1_0000_0000);
}

const SMALL_COPY = 256;

/** Copies `src` into `b` at `o`: a loop for small sources, TypedArray#set for the rest. */
function copyInto(b: Buffer, o: number, src: Uint8Array): void {
  const n = src.length;
  if (n > SMALL_COPY) {
    b.set(src, o);
    return;
  }
  for (let i = 0; i < n; i++) b[o + i] = src[i]!;
}

function getU32(b: Buffer, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x100_0000;
}

/** u64 LE → number; -1 above 2^53 - 1. */
function getU53(b: Buffer, o: number): number {
  const hi = getU32(b, o + 4);
  return hi > MAX_U53_HI ? -1 : hi * 0x1_0000_0000 + getU32(b, o);
}

/** XADD field/value arguments of a version-2 frame. */
export function frameEntryFields(frame: Buffer): (string | Buffer)[] {
  return [FRAME_FIELD, frame];
}

/**
 * Encodes the body of a version-1 frame (msgpack). The producer writes version 2; this stays
 * for tools and tests that build version-1 entries. The result is a fresh Buffer.
 */
export function encodeBody(records: readonly RouteRecordInput[]): Buffer {
  const arr = new Array<unknown[]>(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.kind === "variable") {
      const wallMs = r.hlc?.wallMs ?? 0;
      const counter = r.hlc?.counter ?? 0;
      if (!isStampPart(wallMs) || !isStampPart(counter)) {
        throw new RoutingError("ROUTE_INVALID_CONFIG", `HLC stamp ${wallMs}.${counter} is not made of non-negative safe integers`);
      }
      arr[i] = [1, r.name, r.payload, wallMs, counter];
    } else {
      arr[i] = [0, r.name, r.payload];
    }
  }
  // pack() returns a view of msgpackr's reusable buffer: copy it (the frame may be resent).
  return Buffer.from(packr.pack(arr));
}

const isStampPart = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** A decoded stamp field as a number (another encoder may send uint64, decoded as bigint), or null. */
function stampPart(v: unknown): number | null {
  if (typeof v === "bigint") return v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : null;
  return isStampPart(v) ? v : null;
}

/** XADD field/value arguments of a version-1 frame (see encodeBody). */
export function frameFields(h: FrameHeader, body: Buffer): (string | Buffer)[] {
  return [
    "v", "1",
    "o", h.origin,
    "e", h.epoch,
    "s", String(h.firstSeq),
    "c", String(h.count),
    "t", String(h.sentAt),
    "b", body,
  ];
}

/**
 * Parses a stream entry's fields (as Buffers, from the *Buffer commands) into its records:
 * version 2 (one field `f`) and version 1. Anything else throws ROUTE_BAD_ENTRY.
 */
export function decodeFrame(streamId: string, fields: Buffer[]): RoutedRecord[] {
  if (fields.length === 2) {
    const k = fields[0]!;
    if (k.length === 1 && k[0] === 0x66) return decodeFrameV2(streamId, fields[1]!); // f
  }
  return decodeFrameV1(streamId, fields);
}

const badEntry = (streamId: string, what: string) => new RoutingError("ROUTE_BAD_ENTRY", `entry ${streamId}: ${what}`);

function decodeFrameV2(streamId: string, b: Buffer): RoutedRecord[] {
  const len = b.length;
  if (len < 1 || b[0] !== 2) throw badEntry(streamId, `unsupported format version ${len ? b[0] : "(empty frame)"}`);
  if (len < V2_FIXED) throw badEntry(streamId, "frame shorter than its header");
  const originLen = b[1]!;
  const epochLen = b[2]!;
  const count = getU32(b, 4);
  const firstSeq = getU53(b, 8);
  const sentAt = getU53(b, 16);
  let p = V2_FIXED + originLen + epochLen;
  // count is bounded by the bytes present, so a corrupt count cannot make us allocate much.
  if (!originLen || !epochLen || b[3] !== 0 || firstSeq < 0 || sentAt < 0 || p > len || count > (len - p) / V2_RECORD) {
    throw badEntry(streamId, "missing or malformed header fields");
  }
  lastIdent.load(b, originLen, epochLen);
  const origin = lastIdent.origin;
  const epoch = lastIdent.epoch;
  const out = new Array<RoutedRecord>(count);
  for (let i = 0; i < count; i++) {
    if (p + V2_RECORD > len) throw badEntry(streamId, `record ${i} is malformed`);
    const kind = b[p]!;
    const nameLen = getU32(b, p + 1);
    const payloadLen = getU32(b, p + 5);
    p += V2_RECORD;
    let hlc: HlcStamp | undefined;
    if (kind === 1) {
      if (p + V2_STAMP > len) throw badEntry(streamId, `record ${i} is malformed`);
      const wallMs = getU53(b, p);
      const counter = getU53(b, p + 8);
      if (wallMs < 0 || counter < 0) throw badEntry(streamId, `record ${i} has no valid HLC stamp`);
      hlc = { wallMs, counter, nodeId: origin };
      p += V2_STAMP;
    } else if (kind !== 0) {
      throw badEntry(streamId, `record ${i} is malformed`);
    }
    const end = p + nameLen + payloadLen;
    if (end > len) throw badEntry(streamId, `record ${i} is malformed`);
    // Same shape as routed() (v1): one object shape for every record keeps apply paths monomorphic.
    out[i] = {
      kind: kind === 1 ? "variable" : "message",
      name: nameLen ? b.toString("utf8", p, p + nameLen) : "",
      payload: b.subarray(p + nameLen, end),
      hlc, origin, epoch, seq: firstSeq + i, streamId, index: i, sentAt,
    };
    p = end;
  }
  if (p !== len) throw badEntry(streamId, `${len - p} bytes after the last record`);
  return out;
}

function decodeFrameV1(streamId: string, fields: Buffer[]): RoutedRecord[] {
  // Field names are one letter: look at the first byte instead of building a Map of strings.
  let v: Buffer | undefined, o: Buffer | undefined, e: Buffer | undefined, sb: Buffer | undefined;
  let cb: Buffer | undefined, tb: Buffer | undefined, body: Buffer | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const k = fields[i]!;
    if (k.length !== 1) continue;
    const val = fields[i + 1]!;
    switch (k[0]) {
      case 0x76: v = val; break; // v
      case 0x6f: o = val; break; // o
      case 0x65: e = val; break; // e
      case 0x73: sb = val; break; // s
      case 0x63: cb = val; break; // c
      case 0x74: tb = val; break; // t
      case 0x62: body = val; break; // b
    }
  }
  if (!v || v.length !== 1 || v[0] !== 0x31) {
    const version = v?.toString();
    throw new RoutingError("ROUTE_BAD_ENTRY", `entry ${streamId}: unsupported format version ${JSON.stringify(version)}`);
  }
  // Header fields without Buffer.toString (a native call each): origin and epoch repeat from
  // frame to frame of one producer, the numbers are parsed from their ASCII digits.
  const origin = o ? lastOrigin.get(o, 0, o.length) : "";
  const epoch = e ? lastEpoch.get(e, 0, e.length) : "";
  const firstSeq = sb ? parseDecimal(sb) : NaN;
  const count = cb ? parseDecimal(cb) : NaN;
  const sentAt = tb ? parseDecimal(tb) : 0;
  if (!origin || !epoch || !Number.isSafeInteger(firstSeq) || !Number.isSafeInteger(count) || !body) {
    throw new RoutingError("ROUTE_BAD_ENTRY", `entry ${streamId}: missing or malformed header fields`);
  }
  return decodeBody(streamId, { origin, epoch, firstSeq, count, sentAt }, body);
}

/** Decimal ASCII digits → number; NaN for anything else (empty, sign, other bytes, > 2^53). */
function parseDecimal(b: Buffer): number {
  const n = b.length;
  if (n === 0 || n > 16) return n > 16 ? Number(b.toString("latin1")) : NaN;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Remembers the string of the last bytes it decoded (a producer's origin or epoch): frames of
 * one producer repeat them, and returning the same string instance also lets the consumer reuse
 * its dedupe key.
 */
class LastString {
  private bytes: Buffer = Buffer.alloc(0);
  private str = "";
  get(b: Buffer, start: number, end: number): string {
    const prev = this.bytes;
    const n = end - start;
    if (prev.length === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (prev[i] !== b[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.str;
    }
    this.bytes = Buffer.from(b.subarray(start, end)); // a copy: b is a view into a reply buffer
    this.str = b.toString("utf8", start, end);
    return this.str;
  }
}
const lastOrigin = new LastString();
const lastEpoch = new LastString();

/** LastString for a version-2 frame's origin and epoch, which sit side by side: one compare. */
class LastIdent {
  private bytes: Buffer = Buffer.alloc(0);
  private originLen = 0;
  origin = "";
  epoch = "";
  load(b: Buffer, originLen: number, epochLen: number): void {
    const prev = this.bytes;
    const n = originLen + epochLen;
    if (this.originLen === originLen && prev.length === n) {
      let i = 0;
      while (i < n && prev[i] === b[V2_FIXED + i]) i++;
      if (i === n) return;
    }
    this.bytes = Buffer.from(b.subarray(V2_FIXED, V2_FIXED + n)); // a copy: b is a view into a reply buffer
    this.originLen = originLen;
    this.origin = b.toString("latin1", V2_FIXED, V2_FIXED + originLen);
    this.epoch = b.toString("latin1", V2_FIXED + originLen, V2_FIXED + n);
  }
}
const lastIdent = new LastIdent();

function routed(
  h: FrameHeader, streamId: string, index: number, kind: RecordKind, name: string, payload: Uint8Array, hlc: HlcStamp | undefined,
): RoutedRecord {
  // One object shape for every record (hlc present, possibly undefined): keeps apply paths monomorphic.
  return { kind, name, payload, hlc, origin: h.origin, epoch: h.epoch, seq: h.firstSeq + index, streamId, index, sentAt: h.sentAt };
}

function decodeBody(streamId: string, h: FrameHeader, body: Buffer): RoutedRecord[] {
  let raw: unknown;
  try {
    raw = packr.unpack(body);
  } catch (e) {
    throw new RoutingError("ROUTE_BAD_ENTRY", `entry ${streamId}: body is not msgpack (${(e as Error).message})`);
  }
  if (!Array.isArray(raw) || raw.length !== h.count) {
    throw new RoutingError("ROUTE_BAD_ENTRY", `entry ${streamId}: body holds ${Array.isArray(raw) ? raw.length : "no"} records, header says ${h.count}`);
  }
  return raw.map((r: unknown, index): RoutedRecord => {
    if (!Array.isArray(r) || (r[0] !== 0 && r[0] !== 1) || typeof r[1] !== "string" || !(r[2] instanceof Uint8Array)) {
      throw new RoutingError("ROUTE_BAD_ENTRY", `entry ${streamId}: record ${index} is malformed`);
    }
    if (r[0] === 1) {
      const wallMs = stampPart(r[3]);
      const counter = stampPart(r[4]);
      if (r.length !== 5 || wallMs === null || counter === null) {
        throw new RoutingError("ROUTE_BAD_ENTRY", `entry ${streamId}: record ${index} has no valid HLC stamp`);
      }
      return routed(h, streamId, index, "variable", r[1] as string, r[2] as Uint8Array, { wallMs, counter, nodeId: h.origin });
    }
    return routed(h, streamId, index, "message", r[1] as string, r[2] as Uint8Array, undefined);
  });
}

/** Encodes a JS value as a msgpack payload (for callers that route structured values). */
export function packValue(value: unknown): Buffer {
  return Buffer.from(packr.pack(value));
}

export function unpackValue(payload: Uint8Array): unknown {
  return packr.unpack(payload);
}

/** Stream ids compare as (ms, seq) pairs; string compare is wrong ("9-0" > "10-0"). */
export function compareStreamIds(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  const d = BigInt(am) - BigInt(bm);
  if (d !== 0n) return d < 0n ? -1 : 1;
  const e = BigInt(as) - BigInt(bs);
  return e === 0n ? 0 : e < 0n ? -1 : 1;
}
