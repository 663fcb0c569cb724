/**
 * The local socket protocol's codec against hostile bytes. The worker feeds every byte a client
 * sends through FrameDecoder, so "never throws anything but FrameError, never buffers more than
 * one frame" is what keeps a malformed client from crashing or bloating the worker.
 */
import { describe, expect, it } from "vitest";
import {
  BadBody,
  DEFAULT_MAX_BODY,
  FRAME_HEADER_SIZE,
  FrameDecoder,
  FrameError,
  MessageType,
  encodeFrame,
  type Frame,
} from "../../worker/protocol/frame";

/** Small deterministic PRNG so a failing case can be replayed from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

describe("frame codec", () => {
  it("round-trips every message type, split at every byte boundary", () => {
    const frames = [
      encodeFrame(MessageType.HELLO, 1, { protocol: 1, apiKey: "k", pid: 42 }),
      encodeFrame(MessageType.OPEN, 2, { name: "prices", side: "PRODUCER", nested: { a: [1, 2, 3] } }),
      encodeFrame(MessageType.HEARTBEAT, 0xffffffff, {}),
    ];
    const all = Buffer.concat(frames);
    for (let cut = 0; cut <= all.length; cut++) {
      const d = new FrameDecoder();
      const got = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
      expect(got.map((f) => f.requestId)).toEqual([1, 2, 0xffffffff]);
      expect(got[1]!.body).toEqual({ name: "prices", side: "PRODUCER", nested: { a: [1, 2, 3] } });
      expect(d.pendingBytes).toBe(0);
    }
  });

  it("rejects bad magic, version, type and oversized lengths with typed errors", () => {
    const good = encodeFrame(MessageType.HELLO, 7, {});
    const cases: [number, number, FrameError["code"]][] = [
      [0, 0x00, "BAD_MAGIC"],
      [2, 9, "UNSUPPORTED_VERSION"],
      [3, 0xee, "UNKNOWN_TYPE"],
    ];
    for (const [offset, value, code] of cases) {
      const bad = Buffer.from(good);
      bad[offset] = value;
      expect(() => new FrameDecoder().push(bad)).toThrow(expect.objectContaining({ code }));
    }
    const huge = Buffer.from(good);
    huge.writeUInt32LE(DEFAULT_MAX_BODY + 1, 8);
    // Rejected from the header alone: the decoder never waits for (or buffers) a body that large.
    const d = new FrameDecoder();
    expect(() => d.push(huge.subarray(0, FRAME_HEADER_SIZE))).toThrow(expect.objectContaining({ code: "FRAME_TOO_LARGE", requestId: 7 }));
    expect(d.pendingBytes).toBe(0);
  });

  it("keeps framing after a bad msgpack body and reports it as BadBody", () => {
    const bad = Buffer.from(encodeFrame(MessageType.OPEN, 3, null));
    const body = Buffer.from([0xc1]); // 0xc1 is "never used" in msgpack
    const frame = Buffer.concat([bad.subarray(0, 8), Buffer.from([1, 0, 0, 0]), body]);
    const next = encodeFrame(MessageType.HEARTBEAT, 4, {});
    const got = new FrameDecoder().push(Buffer.concat([frame, next]));
    expect(got).toHaveLength(2);
    expect(got[0]!.body).toBeInstanceOf(BadBody);
    expect(got[1]!.requestId).toBe(4);
  });

  it("survives 100,000 random and mutated frames: only FrameError or frames, bounded buffering", () => {
    const rand = rng(0xc0ffee);
    const seeds = [
      encodeFrame(MessageType.HELLO, 1, { protocol: 1, apiKey: "cmk_abc_def", pid: 1234, client: "test" }),
      encodeFrame(MessageType.OPEN, 2, { name: "a.b", side: "CONSUMER", performance: { maxLatencyMicros: 5 } }),
      encodeFrame(MessageType.CLOSE, 3, { attachmentId: "x".repeat(40) }),
      encodeFrame(MessageType.FETCH_FD, 4, { ticket: "t" }),
    ];
    const maxBody = 4096;
    let frames = 0;
    let errors = 0;
    for (let i = 0; i < 100_000; i++) {
      let input: Buffer;
      const mode = i % 4;
      if (mode === 0) {
        input = Buffer.alloc(1 + Math.floor(rand() * 64));
        for (let j = 0; j < input.length; j++) input[j] = Math.floor(rand() * 256);
      } else {
        input = Buffer.from(seeds[Math.floor(rand() * seeds.length)]!);
        const flips = 1 + Math.floor(rand() * 4);
        for (let f = 0; f < flips; f++) {
          const at = Math.floor(rand() * input.length);
          // Mode 1 mutates only the body (the msgpack decoder sees garbage), others anywhere.
          const pos = mode === 1 ? FRAME_HEADER_SIZE + (at % Math.max(1, input.length - FRAME_HEADER_SIZE)) : at;
          if (pos < input.length) input[pos] = Math.floor(rand() * 256);
        }
        if (mode === 3) input = input.subarray(0, Math.floor(rand() * input.length));
      }
      const d = new FrameDecoder(maxBody);
      try {
        // Feed in random-size pieces, as a socket would deliver them.
        let off = 0;
        while (off < input.length) {
          const n = 1 + Math.floor(rand() * 16);
          const got: Frame[] = d.push(input.subarray(off, off + n));
          frames += got.length;
          off += n;
          if (d.pendingBytes > FRAME_HEADER_SIZE + maxBody) throw new Error(`buffered ${d.pendingBytes} bytes`);
        }
      } catch (e) {
        if (!(e instanceof FrameError)) throw e;
        errors++;
      }
    }
    // Both outcomes must actually occur, or the fuzzer is not exercising anything.
    expect(frames).toBeGreaterThan(1000);
    expect(errors).toBeGreaterThan(1000);
  });
});

describe("optional fields", () => {
  it("undefined properties are left out rather than sent as a msgpack extension", () => {
    const [f] = new FrameDecoder().push(encodeFrame(MessageType.OPEN, 1, { name: "x", creationPolicy: undefined, nested: { a: undefined, b: 1 } }));
    expect(f!.body).toEqual({ name: "x", nested: { b: 1 } });
  });
});
