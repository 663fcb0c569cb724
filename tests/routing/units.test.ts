import { Command } from "ioredis";
import { Packr } from "msgpackr";
import { describe, expect, it } from "vitest";
import {
  DedupeWindow, FrameEncoder, HybridLogicalClock, encodeCommand, withLastArgument, VariableMerger, compareStamps, compareStreamIds, decodeFrame, encodeBody, fileKeys,
  frameEntryFields, frameFields, isRoutingError, tenantKeyPattern, type RouteRecordInput,
} from "../../routing";

/** A version-2 entry's fields as Redis returns them. */
const v2Fields = (frame: Buffer) => frameEntryFields(frame).map((f) => Buffer.from(f));
const badEntryOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(isRoutingError(e, "ROUTE_BAD_ENTRY")).toBe(true);
    return (e as Error).message;
  }
  throw new Error("decoded a bad entry");
};

describe("keys", () => {
  it("share one hash tag per tenant/file and reject ids that would break the tag or ACL patterns", () => {
    const k = fileKeys({ tenantId: "acme", fileId: "prices" });
    expect(k.stream).toBe("commy:{t:acme:f:prices}:stream");
    expect(k.dlq).toBe("commy:{t:acme:f:prices}:dlq");
    expect(k.applied("n1")).toBe("commy:{t:acme:f:prices}:applied:n1");
    expect(tenantKeyPattern("acme")).toBe("commy:{t:acme:*");
    for (const bad of ["a}b", "a:b", "a*", "", "x".repeat(65), "a b"]) {
      let err: unknown;
      try {
        fileKeys({ tenantId: bad, fileId: "f" });
      } catch (e) {
        err = e;
      }
      expect(isRoutingError(err, "ROUTE_INVALID_ID")).toBe(true);
    }
  });
});

describe("frames", () => {
  it("round-trip messages and variable writes with origin, epoch and contiguous seqs", () => {
    const body = encodeBody([
      { kind: "message", name: "", payload: Buffer.from("hello") },
      { kind: "variable", name: "price", payload: Buffer.from([1, 2, 3]), hlc: { wallMs: 1700000000000, counter: 4, nodeId: "n1" } },
    ]);
    const fields = frameFields({ origin: "n1", epoch: "e1", firstSeq: 41, count: 2, sentAt: 5 }, body).map((f) => Buffer.from(f));
    const recs = decodeFrame("1-1", fields);
    expect(recs.map((r) => [r.kind, r.name, Buffer.from(r.payload).toString("hex"), r.seq])).toEqual([
      ["message", "", Buffer.from("hello").toString("hex"), 41],
      ["variable", "price", "010203", 42],
    ]);
    expect(recs[1]!.hlc).toEqual({ wallMs: 1700000000000, counter: 4, nodeId: "n1" });
  });

  it("refuse a corrupted or foreign entry with ROUTE_BAD_ENTRY", () => {
    const fields = frameFields({ origin: "n1", epoch: "e1", firstSeq: 1, count: 2, sentAt: 0 }, encodeBody([{ kind: "message", name: "", payload: Buffer.from("x") }]));
    let err: unknown;
    try {
      decodeFrame("1-1", fields.map((f) => Buffer.from(f)));
    } catch (e) {
      err = e;
    }
    expect(isRoutingError(err, "ROUTE_BAD_ENTRY")).toBe(true);
    expect(() => decodeFrame("1-2", [Buffer.from("v"), Buffer.from("9")])).toThrow(/unsupported format version/);
  });

  it("round-trip every length class of name, payload and stamp, and decode other valid encodings too", () => {
    const recs = [];
    for (const len of [0, 1, 255, 256, 65535, 65536]) {
      for (const nl of [0, 5, 31, 32, 300]) {
        recs.push({ kind: "message" as const, name: "é".repeat(nl >> 1) + "x".repeat(nl & 1), payload: Buffer.alloc(len, 7) });
        recs.push({ kind: "variable" as const, name: "n".repeat(nl), payload: Buffer.alloc(len, 3), hlc: { wallMs: [0, 200, 70_000, 1_700_000_000_123][nl % 4]!, counter: [0, 128, 2 ** 33][len % 3]!, nodeId: "o" } });
      }
    }
    for (const set of [recs.slice(0, 1), recs.slice(0, 15), recs.slice(0, 16), recs]) {
      const ours = encodeBody(set);
      const back = decodeFrame("1-1", frameFields({ origin: "o", epoch: "e", firstSeq: 7, count: set.length, sentAt: 3 }, ours).map((f) => Buffer.from(f)));
      expect(back.map((r) => [r.kind, r.name, Buffer.from(r.payload).toString("hex"), r.hlc?.wallMs, r.hlc?.counter, r.seq])).toEqual(
        set.map((r, i) => [r.kind, r.name, Buffer.from(r.payload).toString("hex"), r.hlc?.wallMs, r.hlc?.counter, 7 + i]),
      );
    }
    // Another implementation may use uint64 for the wall clock and str8 for a short name.
    const other = Buffer.from("91" + "95" + "01" + "d90178" + "c40161" + "cf0000018bcfe56800" + "03", "hex");
    const [rec] = decodeFrame("2-1", frameFields({ origin: "o", epoch: "e", firstSeq: 1, count: 1, sentAt: 0 }, other).map((f) => Buffer.from(f)));
    expect(rec!.hlc).toEqual({ wallMs: 1_700_000_000_000, counter: 3, nodeId: "o" });
    expect(rec!.name).toBe("x");
    // A variable write whose stamp is not two non-negative integers is refused, not applied.
    const bad = Buffer.from(new Packr({ useRecords: false }).pack([[1, "x", Buffer.from("a"), -5, 0]]));
    expect(() => decodeFrame("3-1", frameFields({ origin: "o", epoch: "e", firstSeq: 1, count: 1, sentAt: 0 }, bad).map((f) => Buffer.from(f)))).toThrow(/HLC stamp/);
  });

  it("format 2: one field carries header and records; every length class and stamp round-trips", () => {
    const enc = new FrameEncoder("node-1", "g7abc");
    const recs: RouteRecordInput[] = [];
    for (const len of [0, 1, 255, 256, 65535, 65536]) {
      for (const nl of [0, 5, 31, 32, 300]) {
        recs.push({ kind: "message", name: "é".repeat(nl >> 1) + "x".repeat(nl & 1), payload: Buffer.alloc(len, 7) });
        recs.push({ kind: "variable", name: "n".repeat(nl), payload: Buffer.alloc(len, 3), hlc: { wallMs: [0, 200, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER][nl % 4]!, counter: [0, 128, 2 ** 33][len % 3]!, nodeId: "node-1" } });
      }
    }
    for (const set of [recs.slice(0, 1), recs.slice(0, 2), recs]) {
      const fields = frameEntryFields(enc.encode(2 ** 35 + 7, 1_700_000_000_123, set));
      expect(fields.length).toBe(2);
      const back = decodeFrame("9-1", fields.map((f) => Buffer.from(f)));
      expect(back.map((r) => [r.kind, r.name, Buffer.from(r.payload).toString("hex"), r.hlc?.wallMs, r.hlc?.counter, r.hlc?.nodeId, r.seq, r.index])).toEqual(
        set.map((r, i) => [r.kind, r.name, Buffer.from(r.payload).toString("hex"), r.hlc?.wallMs, r.hlc?.counter, r.hlc ? "node-1" : undefined, 2 ** 35 + 7 + i, i]),
      );
      expect(back.every((r) => r.origin === "node-1" && r.epoch === "g7abc" && r.sentAt === 1_700_000_000_123 && r.streamId === "9-1")).toBe(true);
    }
    // The idle-file path encodes the same bytes as the generic one.
    for (const [name, payload] of [["", Buffer.alloc(64, 1)], ["sübject", Buffer.alloc(300, 2)], ["s", Buffer.alloc(0)]] as const) {
      expect(enc.encodeMessage(2 ** 40 + 1, 1_700_000_000_123, name, payload).equals(enc.encode(2 ** 40 + 1, 1_700_000_000_123, [{ kind: "message", name, payload }]))).toBe(true);
    }
    // A one-message frame is the 24-byte header, origin, epoch, 9 bytes of record header, payload.
    expect(enc.encode(1, 0, [{ kind: "message", name: "", payload: Buffer.alloc(64) }]).length).toBe(24 + 11 + 9 + 64);
    expect(() => enc.encode(1, 0, [{ kind: "variable", name: "x", payload: Buffer.from("a"), hlc: { wallMs: -5, counter: 0, nodeId: "node-1" } }])).toThrow(/HLC stamp/);
    expect(() => new FrameEncoder("a:b", "e")).toThrow(/origin/);
  });

  it("format 2: truncated, padded, foreign-version or inconsistent frames are refused, never half-applied", () => {
    const enc = new FrameEncoder("o", "e");
    const good = enc.encode(5, 0, [
      { kind: "message", name: "s", payload: Buffer.from("hello") },
      { kind: "variable", name: "v", payload: Buffer.from("x"), hlc: { wallMs: 1, counter: 2, nodeId: "o" } },
    ]);
    expect(decodeFrame("1-1", v2Fields(good))).toHaveLength(2);
    for (let cut = 0; cut < good.length; cut++) badEntryOf(() => decodeFrame("1-1", v2Fields(good.subarray(0, cut))));
    expect(badEntryOf(() => decodeFrame("1-1", v2Fields(Buffer.concat([good, Buffer.from([0])]))))).toMatch(/after the last record/);
    const patched = (at: number, v: number) => {
      const b = Buffer.from(good);
      b[at] = v;
      return v2Fields(b);
    };
    expect(badEntryOf(() => decodeFrame("1-1", patched(0, 3)))).toMatch(/unsupported format version 3/);
    badEntryOf(() => decodeFrame("1-1", patched(3, 1))); // reserved flags
    badEntryOf(() => decodeFrame("1-1", patched(1, 0))); // empty origin
    badEntryOf(() => decodeFrame("1-1", patched(4, 3))); // count says 3
    badEntryOf(() => decodeFrame("1-1", patched(4, 255))); // count larger than the bytes could hold
    badEntryOf(() => decodeFrame("1-1", patched(15, 0x40))); // first seq above 2^53
    badEntryOf(() => decodeFrame("1-1", patched(26, 2))); // record kind 2
    badEntryOf(() => decodeFrame("1-1", patched(27, 200))); // name longer than the frame
  });

  it("version 1 entries (seven fields, msgpack body) are still decoded", () => {
    const body = encodeBody([{ kind: "message", name: "a", payload: Buffer.from("old") }]);
    const [rec] = decodeFrame("1-1", frameFields({ origin: "n0", epoch: "e0", firstSeq: 3, count: 1, sentAt: 9 }, body).map((f) => Buffer.from(f)));
    expect([rec!.origin, rec!.epoch, rec!.seq, rec!.name, Buffer.from(rec!.payload).toString(), rec!.sentAt]).toEqual(["n0", "e0", 3, "a", "old", 9]);
  });

  it("stream ids compare numerically", () => {
    expect(compareStreamIds("9-0", "10-0")).toBe(-1);
    expect(compareStreamIds("10-2", "10-10")).toBe(-1);
    expect(compareStreamIds("10-2", "10-2")).toBe(0);
  });
});

describe("pre-encoded commands", () => {
  it("are byte for byte what ioredis writes for the same arguments", () => {
    const asIoredis = (name: string, args: (string | Buffer)[]) => {
      const w = new Command(name, args).toWritable({});
      return Buffer.isBuffer(w) ? w : Buffer.from(w, "utf8");
    };
    const read = ["GROUP", "b:n1", "n1", "COUNT", "64", "BLOCK", "5000", "STREAMS", "commy:{t:a:f:b}:stream", ">"];
    expect(encodeCommand(["XREADGROUP", ...read]).equals(asIoredis("XREADGROUP", read))).toBe(true);
    const head = ["commy:{t:a:f:b}:stream", "MAXLEN", "~", "100000", "*", "f"];
    for (const frame of [Buffer.alloc(0), Buffer.from("x"), Buffer.alloc(108, 7), Buffer.alloc(257, 1), Buffer.alloc(70_000, 2)]) {
      const ours = withLastArgument(encodeCommand(["XADD", ...head], true), frame);
      expect(ours.equals(asIoredis("XADD", [...head, frame]))).toBe(true);
    }
    expect(encodeCommand(["SET", "ключ", Buffer.from([0, 255])]).equals(asIoredis("SET", ["ключ", Buffer.from([0, 255])]))).toBe(true);
  });
});

describe("DedupeWindow", () => {
  it("drops redelivered records, keeps late ones that fill a gap, and survives a snapshot", () => {
    const w = new DedupeWindow();
    for (const s of [1, 2, 3, 5, 6]) w.markApplied("n1", "e1", s);
    expect([1, 2, 3, 5, 6].every((s) => w.seen("n1", "e1", s))).toBe(true);
    expect(w.seen("n1", "e1", 4)).toBe(false); // gap: not applied yet
    expect(w.seen("n1", "e1", 7)).toBe(false);
    expect(w.seen("n1", "e2", 1)).toBe(false); // a new producer epoch starts over
    const w2 = new DedupeWindow({}, JSON.parse(JSON.stringify(w.snapshot())));
    expect(w2.seen("n1", "e1", 4)).toBe(false);
    w2.markApplied("n1", "e1", 4);
    expect(w2.seen("n1", "e1", 4)).toBe(true);
  });

  it("stays bounded in origins and gaps", () => {
    const w = new DedupeWindow({ maxOrigins: 3, maxGaps: 10 });
    for (let i = 0; i < 10; i++) w.markApplied(`n${i}`, "e", 1);
    expect(w.size).toBe(3);
    w.markApplied("g", "e", 1);
    w.markApplied("g", "e", 1000);
    const snap = w.snapshot().find(([k]) => k === "g/e")!;
    expect(snap[2].length).toBeLessThanOrEqual(10);
  });
});

describe("HLC and VariableMerger", () => {
  it("orders by wall, counter, then node id; a write made after seeing another always wins even on a lagging clock", () => {
    expect(compareStamps({ wallMs: 1, counter: 0, nodeId: "b" }, { wallMs: 1, counter: 0, nodeId: "a" })).toBeGreaterThan(0);
    let fast = 10_000;
    const a = new HybridLogicalClock("a", { now: () => fast });
    const b = new HybridLogicalClock("b", { now: () => 1_000 }); // 9 s behind
    const sa = a.tick();
    b.receive(sa);
    const sb = b.tick();
    expect(compareStamps(sb, sa)).toBeGreaterThan(0);
    fast++;
    expect(a.tick().wallMs).toBe(10_001);
  });

  it("converges whatever the arrival order, and re-delivery is a no-op", () => {
    const writes = [
      { wallMs: 5, counter: 0, nodeId: "a" },
      { wallMs: 5, counter: 0, nodeId: "c" },
      { wallMs: 5, counter: 1, nodeId: "b" },
      { wallMs: 4, counter: 9, nodeId: "z" },
    ].map((stamp, i) => ({ stamp, value: `w${i}` }));
    const orders = [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]];
    const results = orders.map((o) => {
      const m = new VariableMerger<string>();
      for (const i of o) m.offer("x", writes[i]!.stamp, writes[i]!.value);
      expect(m.offer("x", writes[2]!.stamp, "w2")).toBe(false);
      return m.get("x")!.value;
    });
    expect(new Set(results)).toEqual(new Set(["w2"]));
  });
});
