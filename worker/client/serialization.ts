/**
 * Value codecs, one per shared file `serialization`: json, msgpack (msgpackr), cbor (cbor-x),
 * raw (bytes as they are). The file decides; every process attached to it uses the same codec.
 */
import { decode as cborDecode, encode as cborEncode } from "cbor-x";
import { Packr } from "msgpackr";
import type { Serialization } from "../../src/server/contracts/worker";
import { CommyClientError } from "./errors";

export interface Codec {
  readonly name: Serialization;
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder("utf-8", { fatal: true });
// Plain msgpack (no records) so non-JS readers can decode the bytes.
const packr = new Packr({ useRecords: false, moreTypes: false });

function guard<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new CommyClientError("SERIALIZATION", `${what}: ${(e as Error).message}`, false, undefined, { cause: e });
  }
}

export const CODECS: Record<Serialization, Codec> = {
  JSON: {
    name: "JSON",
    encode: (v) =>
      guard("JSON encode", () => {
        const s = JSON.stringify(v);
        if (s === undefined) throw new Error("value is not representable in JSON");
        return utf8.encode(s);
      }),
    decode: (b) => guard("JSON decode", () => JSON.parse(utf8d.decode(b)) as unknown),
  },
  MSGPACK: {
    name: "MSGPACK",
    encode: (v) => guard("msgpack encode", () => packr.pack(v)),
    decode: (b) => guard("msgpack decode", () => packr.unpack(b) as unknown),
  },
  CBOR: {
    name: "CBOR",
    encode: (v) => guard("CBOR encode", () => cborEncode(v)),
    decode: (b) => guard("CBOR decode", () => cborDecode(b) as unknown),
  },
  RAW: {
    name: "RAW",
    encode: (v) => {
      if (v instanceof Uint8Array) return v;
      if (typeof v === "string") return utf8.encode(v);
      throw new CommyClientError("SERIALIZATION", "a RAW file takes Uint8Array (or string) values");
    },
    decode: (b) => b,
  },
};
