/**
 * The non-throwing producer API (tryAppend, tryAppendPacked, waitForSpace),
 * the wait backends (io_uring futex waits completed by the event loop, and
 * the waiter-thread fallback), spin-then-park waits, and bit-exact copies on
 * the 8-bytes-per-step read paths. No timed assertions.
 */
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { SharedFile } from "../../native/lib/index.js";
import { finished, killHelpers, printed, spawnHelper, tempDir } from "./helpers/util.js";

let dir: string;
let cleanup: () => void;
const open: SharedFile[] = [];
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(async () => {
  await killHelpers();
  for (const f of open.splice(0)) f.close();
  cleanup();
});
function track(f: SharedFile): SharedFile {
  open.push(f);
  return f;
}
function packed(n: number, size: number, seed = 0): { data: Uint8Array; lens: Uint32Array } {
  const data = new Uint8Array(n * size);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + seed) & 0xff;
  return { data, lens: new Uint32Array(n).fill(size) };
}

describe("wait backend", () => {
  it("reports which backend notify waits use, and why when it is the fallback", () => {
    const b = SharedFile.waitBackend();
    expect(["io_uring", "threads"]).toContain(b.backend);
    if (b.backend === "threads") expect(b.reason.length).toBeGreaterThan(0);
    else expect(b.reason).toBe("");
  });
});

describe("tryAppend / tryAppendPacked", () => {
  it("refuse policy: appends the prefix that fits, returns how many, never throws STREAM_FULL", () => {
    const f = track(SharedFile.create(join(dir, "s"), { kind: "stream", capacity: 8, messageMaxSize: 16, overflow: "refuse" }));
    const s = f.stream;
    const r = s.reader({ from: 0, register: true });
    const { data, lens } = packed(5, 16);
    expect(s.tryAppendPacked(data, lens)).toBe(5);
    expect(s.head).toBe(5);
    const refusedBefore = s.refused;
    expect(s.tryAppendPacked(data, lens)).toBe(3); // only 3 slots left
    expect(s.head).toBe(8);
    expect(s.refused).toBe(refusedBefore + 1);
    expect(s.tryAppendPacked(data, lens)).toBe(0);
    expect(s.tryAppend(new Uint8Array(4))).toBe(-1);
    // The consumer frees 4 slots: exactly 4 more fit, in order.
    const out = new Uint8Array(16);
    for (let i = 0; i < 4; i++) expect(r.nextInto(out)).toBe(16);
    expect(s.tryAppend(new Uint8Array([1, 2, 3]))).toBe(8);
    expect(s.tryAppendPacked(data, lens, 5)).toBe(3);
    expect(s.head).toBe(12);
    // Everything appended is readable and intact.
    let n = 0;
    while (r.nextInto(out) >= 0) n++;
    expect(n).toBe(8);
    expect(r.lost).toBe(0);
    r.close();
  });

  it("overwrite policy: appends everything", () => {
    const f = track(SharedFile.create(join(dir, "s"), { kind: "stream", capacity: 4, messageMaxSize: 8 }));
    const { data, lens } = packed(3, 8);
    for (let i = 0; i < 5; i++) expect(f.stream.tryAppendPacked(data, lens)).toBe(3);
    expect(f.stream.head).toBe(15);
    expect(f.stream.tryAppend(new Uint8Array(8))).toBe(15);
  });

  it("validates like appendPacked (too large, read-only)", () => {
    const path = join(dir, "s");
    const f = track(SharedFile.create(path, { kind: "stream", capacity: 4, messageMaxSize: 8, overflow: "refuse" }));
    expect(() => f.stream.tryAppendPacked(new Uint8Array(9), new Uint32Array([9]))).toThrow(expect.objectContaining({ code: "COMMY_E_TOO_LARGE" }));
    expect(() => f.stream.tryAppend(new Uint8Array(9))).toThrow(expect.objectContaining({ code: "COMMY_E_TOO_LARGE" }));
    const ro = track(SharedFile.open(path, { readOnly: true }));
    expect(() => ro.stream.tryAppendPacked(new Uint8Array(8), new Uint32Array([8]))).toThrow(expect.objectContaining({ code: "COMMY_E_READ_ONLY" }));
  });
});

describe("waitForSpace", () => {
  it("resolves when a registered consumer frees room; false on timeout; true at once for overwrite", async () => {
    const f = track(SharedFile.create(join(dir, "s"), { kind: "stream", capacity: 4, messageMaxSize: 8, overflow: "refuse" }));
    const s = f.stream;
    const r = s.reader({ from: 0, register: true });
    const { data, lens } = packed(4, 8);
    expect(s.tryAppendPacked(data, lens)).toBe(4);
    expect(await s.waitForSpace(1, { timeoutMs: 20 })).toBe(false);
    expect(await s.waitForSpace(1, { mode: "spin", timeoutMs: 5 })).toBe(false);
    let settled = false;
    const p = s.waitForSpace(2).then((v) => ((settled = true), v));
    await new Promise((res) => setTimeout(res, 30));
    expect(settled).toBe(false);
    const out = new Uint8Array(8);
    expect(r.nextInto(out)).toBe(8); // one slot: not enough for 2
    await new Promise((res) => setTimeout(res, 30));
    expect(settled).toBe(false);
    expect(r.nextInto(out)).toBe(8);
    expect(await p).toBe(true);
    expect(s.tryAppendPacked(data, lens)).toBe(2);

    const o = track(SharedFile.create(join(dir, "o"), { kind: "stream", capacity: 4, messageMaxSize: 8 }));
    expect(await o.stream.waitForSpace(4)).toBe(true);
    await expect(s.waitForSpace(5)).rejects.toMatchObject({ code: "COMMY_E_INVALID_ARGUMENT" });
    r.close();
  });

  it("a consumer that closes its reader releases waiting producers", async () => {
    const f = track(SharedFile.create(join(dir, "s"), { kind: "stream", capacity: 2, messageMaxSize: 8, overflow: "refuse" }));
    const r = f.stream.reader({ from: 0, register: true });
    const { data, lens } = packed(2, 8);
    expect(f.stream.tryAppendPacked(data, lens)).toBe(2);
    const p = f.stream.waitForSpace(2);
    r.close();
    expect(await p).toBe(true);
  });

  it("a producer process using tryAppendPacked + waitForSpace delivers every message once, in order", async () => {
    const path = join(dir, "stream");
    SharedFile.create(path, { kind: "stream", capacity: 64, messageMaxSize: 64, overflow: "refuse" }).close();
    const total = 5000;
    const consumer = spawnHelper("stream-consumer.ts", [path, String(total), "60000", "0", "latest"]);
    const consumerDone = finished(consumer);
    await printed(consumer, "ready");
    const p = await finished(spawnHelper("stream-producer.ts", [path, "3", String(total), "try"]));
    expect(p.code, p.stderr).toBe(0);
    const c = await consumerDone;
    expect(c.code, c.stderr).toBe(0);
    expect(c.json).toMatchObject({ received: total, torn: 0, outOfOrder: 0, lost: 0, seqGaps: 0, producers: { 3: total - 1 } });
    expect((p.json as { appended: number }).appended).toBe(total);
  });
});

describe("notify waits", () => {
  it("spin-then-park: spinMicros waits see a change and honour timeouts", async () => {
    const f = track(SharedFile.create(join(dir, "v"), { kind: "variables", slots: [{ name: "x", maxSize: 8 }] }));
    const x = f.variable("x");
    expect(await x.waitForChange(x.version, { spinMicros: 50, timeoutMs: 10 })).toBe(false);
    setTimeout(() => x.write(new Uint8Array([1])), 5);
    expect(await x.waitForChange(x.version, { spinMicros: 200 })).toBe(true);
    const s = track(SharedFile.create(join(dir, "s"), { kind: "stream", capacity: 4, messageMaxSize: 8 }));
    const r = s.stream.reader();
    expect(await r.waitForData({ spinMicros: 50, timeoutMs: 10 })).toBe(false);
    setTimeout(() => s.stream.append(new Uint8Array([1])), 5);
    expect(await r.waitForData({ spinMicros: 100 })).toBe(true);
  });

  it("many concurrent waits on one word all resolve on one write, and the waiter count returns to zero", async () => {
    const f = track(SharedFile.create(join(dir, "v"), { kind: "variables", slots: [{ name: "x", maxSize: 8 }] }));
    const x = f.variable("x");
    const waits = Array.from({ length: 50 }, () => x.waitForChange(0));
    await new Promise((res) => setTimeout(res, 10));
    x.write(new Uint8Array([1]));
    expect(await Promise.all(waits)).toEqual(new Array(50).fill(true));
    // waiters word of slot 0 (control line +8): no wait left registered
    const view = new Int32Array((f as unknown as { u8: Uint8Array }).u8.buffer);
    const slotOffset = (f as unknown as { handle: { layout(): { slots: { offset: number }[] } } }).handle.layout().slots[0]!.offset;
    expect(Atomics.load(view, (slotOffset + 8) >> 2)).toBe(0);
  });

  it.each(["io_uring-or-default", "threads"])("cross-process notify waits work with the %s backend", async (backend) => {
    const path = join(dir, "vars");
    SharedFile.create(path, { kind: "variables", slots: [{ name: "counter", maxSize: 8 }] }).close();
    const env: Record<string, string> = backend === "threads" ? { COMMY_WAIT_BACKEND: "threads" } : {};
    const reader = spawnHelper("var-sequence.ts", ["reader-rw", path, "300"], env);
    const readerDone = finished(reader);
    await printed(reader, "ready");
    const w = await finished(spawnHelper("var-sequence.ts", ["writer", path, "300"]));
    expect(w.code, w.stderr).toBe(0);
    const r = await readerDone;
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ lastValue: 300, lastVersion: 300, regressions: 0 });
  });
});

describe("bit-exact reads", () => {
  // 8-byte groups that are NaN bit patterns (signalling, quiet, with
  // payloads, negative): the Float64Array copy must move them unchanged.
  const patterns = [0x7ff0000000000001n, 0x7ff4000000000abcn, 0xfff8000000000001n, 0x7ff8deadbeef0000n, 0xffffffffffffffffn, 0x7fffffffffffffffn, 0xfff0000000000001n, 0x0n];
  function nanValue(len: number): Uint8Array {
    const v = new Uint8Array(len);
    const dv = new DataView(v.buffer);
    for (let i = 0; i + 8 <= len; i += 8) dv.setBigUint64(i, patterns[(i / 8) % patterns.length]!, true);
    for (let i = len & ~7; i < len; i++) v[i] = 0xa5;
    return v;
  }

  it("variables: NaN payloads survive readInto, interpreted and optimized", () => {
    const f = track(SharedFile.create(join(dir, "v"), { kind: "variables", slots: [{ name: "x", maxSize: 75 }] }));
    const x = f.variable("x");
    const value = nanValue(75);
    x.write(value);
    const out = new Uint8Array(80);
    let bad = 0;
    for (let i = 0; i < 50_000; i++) {
      const n = x.readInto(out);
      if (n !== 75 || Buffer.compare(out.subarray(0, n), value) !== 0) bad++;
    }
    expect(bad).toBe(0);
  });

  it("variables: NaN payloads survive repeated writes of the same array (8-byte-step write path)", () => {
    const f = track(SharedFile.create(join(dir, "v"), { kind: "variables", slots: [{ name: "x", maxSize: 75 }] }));
    const x = f.variable("x");
    const other = track(SharedFile.open(f.path!)).variable("x");
    const value = nanValue(75);
    const out = new Uint8Array(80);
    let bad = 0;
    for (let i = 0; i < 50_000; i++) {
      value[74] = i & 0xff; // the tail byte changes: the bytes really are re-copied
      x.write(value);
      const n = other.readInto(out);
      if (n !== 75 || Buffer.compare(out.subarray(0, n), value) !== 0) bad++;
    }
    expect(bad).toBe(0);
    // An unaligned source and a different array of another length take the other path.
    const odd = new Uint8Array(81).subarray(1, 70);
    odd.set(nanValue(69));
    x.write(odd);
    expect(Buffer.compare(other.read().data, odd)).toBe(0);
  });

  it("streams: NaN payloads survive nextInto", () => {
    const f = track(SharedFile.create(join(dir, "s"), { kind: "stream", capacity: 64, messageMaxSize: 72 }));
    const value = nanValue(72);
    const r = f.stream.reader();
    const out = new Uint8Array(72);
    let bad = 0;
    for (let i = 0; i < 20_000; i++) {
      f.stream.append(value);
      const n = r.nextInto(out);
      if (n !== 72 || Buffer.compare(out, value) !== 0) bad++;
    }
    expect(bad).toBe(0);
  });
});
