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
  const arr = records.map((r) =>
    r.kind === "variable"
      ? [1, r.name, r.payload, r.hlc?.wallMs ?? 0, r.hlc?.counter ?? 0]
      : [0, r.name, r.payload],
  );
  return Buffer.from(packr.pack(arr));
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
  const map = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!.toString(), fields[i + 1]!);
  const v = map.get("v")?.toString();
  if (v !== FORMAT_VERSION) {
    throw new RoutingError("ROUTE_BAD_ENTRY", `entry ${streamId}: unsupported format version ${JSON.stringify(v)}`);
  }
  const origin = map.get("o")?.toString() ?? "";
  const epoch = map.get("e")?.toString() ?? "";
  const firstSeq = Number(map.get("s")?.toString());
  const count = Number(map.get("c")?.toString());
  const sentAt = Number(map.get("t")?.toString() ?? 0);
  const body = map.get("b");
  if (!origin || !epoch || !Number.isSafeInteger(firstSeq) || !Number.isSafeInteger(count) || !body) {
    throw new RoutingError("ROUTE_BAD_ENTRY", `entry ${streamId}: missing or malformed header fields`);
  }
  let raw: unknown;
  try {
    raw = packr.unpack(body);
  } catch (e) {
    throw new RoutingError("ROUTE_BAD_ENTRY", `entry ${streamId}: body is not msgpack (${(e as Error).message})`);
  }
  if (!Array.isArray(raw) || raw.length !== count) {
    throw new RoutingError("ROUTE_BAD_ENTRY", `entry ${streamId}: body holds ${Array.isArray(raw) ? raw.length : "no"} records, header says ${count}`);
  }
  return raw.map((r: unknown, index): RoutedRecord => {
    if (!Array.isArray(r) || (r[0] !== 0 && r[0] !== 1) || typeof r[1] !== "string" || !(r[2] instanceof Uint8Array)) {
      throw new RoutingError("ROUTE_BAD_ENTRY", `entry ${streamId}: record ${index} is malformed`);
    }
    const base = { name: r[1] as string, payload: r[2] as Uint8Array, origin, epoch, seq: firstSeq + index, streamId, index, sentAt };
    if (r[0] === 1) {
      return { ...base, kind: "variable", hlc: { wallMs: Number(r[3]), counter: Number(r[4]), nodeId: origin } };
    }
    return { ...base, kind: "message" };
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
