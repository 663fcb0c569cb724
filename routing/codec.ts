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

/** Encodes the body of a frame. The result is a fresh Buffer (safe to keep and resend). */
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
