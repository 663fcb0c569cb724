/**
 * Stream entry format (docs/spec/redis-routing.md, "Entries"). One entry is one *frame*: the
 * records one producer forwarded for one file within one flush, so batching costs one XADD.
 *
 *   v  "1"                       format version
 *   o  <origin node id>
 *   e  <origin epoch>            identifies one producer incarnation (seqs restart per epoch)
 *   s  <first seq>               decimal; record i of the frame has seq s+i
 *   c  <record count>            decimal
 *   t  <sent at, ms>             producer wall clock at flush (lag metrics only)
 *   b  <body>                    msgpack array of records
 *
 * A record is a msgpack array:
 *   [0, subject, payload]                       kind 0: stream message
 *   [1, slotName, payload, hlcWallMs, hlcCounter] kind 1: variable write (HLC node id = origin)
 * payload is msgpack bin (the bytes exactly as the application wrote them).
 */
import { Packr } from "msgpackr";
import { RoutingError } from "./errors";
import type { HlcStamp } from "./hlc";

export const FORMAT_VERSION = "1";

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
 * Encodes the body of a frame. The result is a fresh Buffer (safe to keep and resend).
 * Hand-rolled MessagePack (one size pass, one allocation, no per-record arrays): the bytes are
 * the ones msgpackr produces for the same records (uints above 32 bits as float64).
 */
export function encodeBody(records: readonly RouteRecordInput[]): Buffer {
  const n = records.length;
  let size = arrayHeaderSize(n);
  const nameLens = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    const nl = r.name.length === 0 ? 0 : Buffer.byteLength(r.name, "utf8");
    nameLens[i] = nl;
    const pl = r.payload.byteLength;
    size += 2 + strHeaderSize(nl) + nl + binHeaderSize(pl) + pl;
    if (r.kind === "variable") size += uintSize(r.hlc?.wallMs ?? 0) + uintSize(r.hlc?.counter ?? 0);
  }
  const buf = Buffer.allocUnsafe(size);
  let o = writeArrayHeader(buf, 0, n);
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    const variable = r.kind === "variable";
    buf[o++] = variable ? 0x95 : 0x93;
    buf[o++] = variable ? 1 : 0;
    const nl = nameLens[i]!;
    o = writeStrHeader(buf, o, nl);
    if (nl) o += buf.write(r.name, o, nl, "utf8");
    const pl = r.payload.byteLength;
    o = writeBinHeader(buf, o, pl);
    buf.set(r.payload, o);
    o += pl;
    if (variable) {
      o = writeUint(buf, o, r.hlc?.wallMs ?? 0);
      o = writeUint(buf, o, r.hlc?.counter ?? 0);
    }
  }
  return buf;
}

function arrayHeaderSize(n: number): number {
  return n < 16 ? 1 : n < 0x10000 ? 3 : 5;
}
function writeArrayHeader(b: Buffer, o: number, n: number): number {
  if (n < 16) b[o++] = 0x90 | n;
  else if (n < 0x10000) (b[o++] = 0xdc), b.writeUInt16BE(n, o), (o += 2);
  else (b[o++] = 0xdd), b.writeUInt32BE(n, o), (o += 4);
  return o;
}
function strHeaderSize(n: number): number {
  return n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}
function writeStrHeader(b: Buffer, o: number, n: number): number {
  if (n < 32) b[o++] = 0xa0 | n;
  else if (n < 0x100) (b[o++] = 0xd9), (b[o++] = n);
  else if (n < 0x10000) (b[o++] = 0xda), b.writeUInt16BE(n, o), (o += 2);
  else (b[o++] = 0xdb), b.writeUInt32BE(n, o), (o += 4);
  return o;
}
function binHeaderSize(n: number): number {
  return n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}
function writeBinHeader(b: Buffer, o: number, n: number): number {
  if (n < 0x100) (b[o++] = 0xc4), (b[o++] = n);
  else if (n < 0x10000) (b[o++] = 0xc5), b.writeUInt16BE(n, o), (o += 2);
  else (b[o++] = 0xc6), b.writeUInt32BE(n, o), (o += 4);
  return o;
}
function uintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x100 ? 2 : v < 0x10000 ? 3 : v < 0x100000000 ? 5 : 9;
}
function writeUint(b: Buffer, o: number, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new RoutingError("ROUTE_INVALID_CONFIG", `HLC field ${v} is not a non-negative safe integer`);
  if (v < 0x80) b[o++] = v;
  else if (v < 0x100) (b[o++] = 0xcc), (b[o++] = v);
  else if (v < 0x10000) (b[o++] = 0xcd), b.writeUInt16BE(v, o), (o += 2);
  else if (v < 0x100000000) (b[o++] = 0xce), b.writeUInt32BE(v, o), (o += 4);
  else (b[o++] = 0xcb), b.writeDoubleBE(v, o), (o += 8);
  return o;
}

/** XADD field/value arguments for a frame. */
export function frameFields(h: FrameHeader, body: Buffer): (string | Buffer)[] {
  return [
    "v", FORMAT_VERSION,
    "o", h.origin,
    "e", h.epoch,
    "s", String(h.firstSeq),
    "c", String(h.count),
    "t", String(h.sentAt),
    "b", body,
  ];
}

/** Parses a stream entry's fields (as Buffers, from the *Buffer commands) into a frame. */
export function decodeFrame(streamId: string, fields: Buffer[]): RoutedRecord[] {
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
  const origin = o ? (lastOrigin.get(o) ?? "") : "";
  const epoch = e ? (lastEpoch.get(e) ?? "") : "";
  const firstSeq = sb ? parseDecimal(sb) : NaN;
  const count = cb ? parseDecimal(cb) : NaN;
  const sentAt = tb ? parseDecimal(tb) : 0;
  if (!origin || !epoch || !Number.isSafeInteger(firstSeq) || !Number.isSafeInteger(count) || !body) {
    throw new RoutingError("ROUTE_BAD_ENTRY", `entry ${streamId}: missing or malformed header fields`);
  }
  const h: FrameHeader = { origin, epoch, firstSeq, count, sentAt };
  let fast: RoutedRecord[] | null = null;
  try {
    fast = decodeBodyFast(streamId, h, body);
  } catch {
    fast = null;
    rb = EMPTY;
  }
  return fast ?? decodeBodyGeneric(streamId, h, body);
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

/** Remembers the string of the last bytes it decoded (a producer's origin or epoch). */
class LastString {
  private bytes: Buffer = Buffer.alloc(0);
  private str = "";
  get(b: Buffer): string {
    const prev = this.bytes;
    if (prev.length === b.length) {
      let same = true;
      for (let i = 0; i < b.length; i++) {
        if (prev[i] !== b[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.str;
    }
    this.bytes = Buffer.from(b); // a copy: b is a view into a reply buffer
    this.str = b.toString("utf8");
    return this.str;
  }
}
const lastOrigin = new LastString();
const lastEpoch = new LastString();

function routed(
  h: FrameHeader, streamId: string, index: number, kind: RecordKind, name: string, payload: Uint8Array, hlc: HlcStamp | undefined,
): RoutedRecord {
  // One object shape for every record (hlc present, possibly undefined): keeps apply paths monomorphic.
  return { kind, name, payload, hlc, origin: h.origin, epoch: h.epoch, seq: h.firstSeq + index, streamId, index, sentAt: h.sentAt };
}

/**
 * Decodes the common encoding of a body without building intermediate arrays; payloads are
 * views into `body`. Returns null (the generic decoder decides) on anything unusual.
 */
function decodeBodyFast(streamId: string, h: FrameHeader, b: Buffer): RoutedRecord[] | null {
  // Module-level reader state instead of closures (no allocation per frame).
  rb = b;
  ro = 0;
  const n = readLen(0x90, 0x0f, -1, 0xdc, 0xdd);
  if (n !== h.count) return null;
  const out = new Array<RoutedRecord>(n);
  for (let i = 0; i < n; i++) {
    const len = readLen(0x90, 0x0f, -1, 0xdc, 0xdd);
    const kind = b[ro++];
    if (!((kind === 0 && len === 3) || (kind === 1 && len === 5))) return null;
    const nl = readLen(0xa0, 0x1f, 0xd9, 0xda, 0xdb);
    if (nl < 0 || ro + nl > b.length) return null;
    const name = nl === 0 ? "" : b.toString("utf8", ro, ro + nl);
    ro += nl;
    const pl = readLen(-1, 0, 0xc4, 0xc5, 0xc6);
    if (pl < 0 || ro + pl > b.length) return null;
    const payload = b.subarray(ro, ro + pl);
    ro += pl;
    if (kind === 1) {
      const wallMs = readUint();
      const counter = readUint();
      if (!(wallMs >= 0) || !(counter >= 0)) return null;
      out[i] = routed(h, streamId, i, "variable", name, payload, { wallMs, counter, nodeId: h.origin });
    } else {
      out[i] = routed(h, streamId, i, "message", name, payload, undefined);
    }
  }
  const end = ro;
  rb = EMPTY;
  return end === b.length ? out : null;
}

const EMPTY = Buffer.alloc(0);
let rb: Buffer = EMPTY;
let ro = 0;

/** A msgpack length: fix form (`fix` with the length in `fixMask` bits; -1 = none), 8/16/32-bit forms. */
function readLen(fix: number, fixMask: number, c8: number, c16: number, c32: number): number {
  const t = rb[ro++]!;
  if (fix >= 0 && (t & ~fixMask) === fix) return t & fixMask;
  if (t === c8) return rb[ro++]!;
  if (t === c16) return (ro += 2), rb.readUInt16BE(ro - 2);
  if (t === c32) return (ro += 4), rb.readUInt32BE(ro - 4);
  return -1;
}

function readUint(): number {
  const t = rb[ro++]!;
  if (t < 0x80) return t;
  switch (t) {
    case 0xcc: return rb[ro++]!;
    case 0xcd: return (ro += 2), rb.readUInt16BE(ro - 2);
    case 0xce: return (ro += 4), rb.readUInt32BE(ro - 4);
    case 0xcf: return (ro += 8), Number(rb.readBigUInt64BE(ro - 8));
    case 0xcb: return (ro += 8), rb.readDoubleBE(ro - 8);
    default: return -1;
  }
}

function decodeBodyGeneric(streamId: string, h: FrameHeader, body: Buffer): RoutedRecord[] {
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
      return routed(h, streamId, index, "variable", r[1] as string, r[2] as Uint8Array, { wallMs: Number(r[3]), counter: Number(r[4]), nodeId: h.origin });
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
