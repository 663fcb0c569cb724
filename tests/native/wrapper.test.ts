import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { CommyError, SharedFile, type CreateOptions, type Variable } from "../../native/lib/index.js";
import { tempDir } from "./helpers/util.js";

let dir: string;
let cleanup: () => void;
const open: SharedFile[] = [];
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => {
  for (const f of open.splice(0)) f.close();
  cleanup();
});
function track(f: SharedFile): SharedFile {
  open.push(f);
  return f;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CommyError);
    return (e as CommyError).code;
  }
  throw new Error("expected a CommyError");
}

const vars: CreateOptions = { kind: "variables", slots: [{ name: "temp", maxSize: 64 }, { name: "big", maxSize: 4000 }] };

describe("option validation", () => {
  const bad: [string, unknown][] = [
    ["no kind", { slots: [{ name: "a", maxSize: 1 }] }],
    ["unknown kind", { kind: "queue" }],
    ["no slots", { kind: "variables", slots: [] }],
    ["empty name", { kind: "variables", slots: [{ name: "", maxSize: 8 }] }],
    ["name too long", { kind: "variables", slots: [{ name: "x".repeat(41), maxSize: 8 }] }],
    ["multi-byte name too long", { kind: "variables", slots: [{ name: "é".repeat(21), maxSize: 8 }] }],
    ["duplicate names", { kind: "variables", slots: [{ name: "a", maxSize: 8 }, { name: "a", maxSize: 8 }] }],
    ["zero maxSize", { kind: "variables", slots: [{ name: "a", maxSize: 0 }] }],
    ["fractional maxSize", { kind: "variables", slots: [{ name: "a", maxSize: 1.5 }] }],
    ["maxSize above 16 MiB", { kind: "variables", slots: [{ name: "a", maxSize: 16 * 1024 * 1024 + 1 }] }],
    ["capacity not a power of two", { kind: "stream", capacity: 1000, messageMaxSize: 64 }],
    ["capacity 1", { kind: "stream", capacity: 1, messageMaxSize: 64 }],
    ["messageMaxSize 0", { kind: "stream", capacity: 64, messageMaxSize: 0 }],
    ["bad overflow", { kind: "stream", capacity: 64, messageMaxSize: 64, overflow: "drop" }],
    ["refuse without consumers", { kind: "stream", capacity: 64, messageMaxSize: 64, overflow: "refuse", maxConsumers: 0 }],
    ["too many consumers", { kind: "stream", capacity: 64, messageMaxSize: 64, maxConsumers: 257 }],
    ["bad mode", { kind: "variables", slots: [{ name: "a", maxSize: 8 }], mode: 0o1777 }],
  ];
  it.each(bad)("rejects %s with COMMY_E_INVALID_ARGUMENT and creates nothing", (_name, options) => {
    const path = join(dir, "f");
    expect(codeOf(() => SharedFile.create(path, options as CreateOptions))).toBe("COMMY_E_INVALID_ARGUMENT");
    expect(existsSync(path)).toBe(false);
  });

  it("rejects a file above maxFileSize with COMMY_E_TOO_LARGE", () => {
    const o: CreateOptions = { kind: "stream", capacity: 1 << 20, messageMaxSize: 1024, maxFileSize: 1 << 20 };
    expect(codeOf(() => SharedFile.create(join(dir, "f"), o))).toBe("COMMY_E_TOO_LARGE");
  });

  it("rejects bad paths and open options", () => {
    expect(codeOf(() => SharedFile.create("", vars))).toBe("COMMY_E_INVALID_ARGUMENT");
    expect(codeOf(() => SharedFile.open(join(dir, "x"), { readOnly: "yes" as unknown as boolean }))).toBe("COMMY_E_INVALID_ARGUMENT");
    expect(codeOf(() => SharedFile.openFd(-1))).toBe("COMMY_E_INVALID_ARGUMENT");
  });
});

describe("create / open / close", () => {
  it("creates a file whose size matches its header and reopens it", () => {
    const path = join(dir, "vars");
    const f = track(SharedFile.create(path, vars));
    expect(f.kind).toBe("variables");
    expect(f.totalSize % 4096).toBe(0);
    expect(statSync(path).size).toBe(f.totalSize);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(f.variableNames()).toEqual(["temp", "big"]);
    expect(f.creatorPid).toBe(process.pid);
    expect(f.generation).toMatch(/^[0-9a-f]{16}$/);
    const g = track(SharedFile.open(path, { readOnly: true }));
    expect(g.generation).toBe(f.generation);
    expect(g.readOnly).toBe(true);
  });

  it("refuses to clobber an existing file unless overwrite, which makes a new generation", () => {
    const path = join(dir, "vars");
    const f = track(SharedFile.create(path, vars));
    f.variable("temp").write(new Uint8Array([7]));
    expect(codeOf(() => SharedFile.create(path, vars))).toBe("COMMY_E_EXISTS");
    const g = track(SharedFile.create(path, { ...vars, overwrite: true }));
    expect(g.generation).not.toBe(f.generation);
    expect(g.variable("temp").version).toBe(0);
    // The old mapping still works: it is the old (now unlinked) inode.
    expect(f.variable("temp").read().data).toEqual(new Uint8Array([7]));
  });

  it("reports missing files and directories as COMMY_E_NOT_FOUND", () => {
    expect(codeOf(() => SharedFile.open(join(dir, "missing")))).toBe("COMMY_E_NOT_FOUND");
    expect(codeOf(() => SharedFile.create(join(dir, "nope", "f"), vars))).toBe("COMMY_E_NOT_FOUND");
  });

  it("close is idempotent, later use throws COMMY_E_CLOSED, and views over the mapping become empty", () => {
    const f = SharedFile.create(join(dir, "vars"), vars);
    const v = f.variable("temp");
    v.write(new Uint8Array([1, 2, 3]));
    const view = v.readView();
    expect(view.data.length).toBe(3);
    f.close();
    f.close();
    expect(view.data.length).toBe(0); // detached, not dangling
    expect(codeOf(() => v.write(new Uint8Array([1])))).toBe("COMMY_E_CLOSED");
    expect(codeOf(() => v.readInto(new Uint8Array(64)))).toBe("COMMY_E_CLOSED");
    expect(codeOf(() => f.fd)).toBe("COMMY_E_CLOSED");
  });

  it("opens from a descriptor and exposes its own fd", () => {
    const path = join(dir, "vars");
    const f = track(SharedFile.create(path, vars));
    f.variable("temp").write(new Uint8Array([9, 9]));
    const g = track(SharedFile.openFd(f.fd, { readOnly: true }));
    expect(g.path).toBeNull();
    expect(g.fd).not.toBe(f.fd); // a duplicate: closing g leaves f's fd alone
    expect(g.variable("temp").read().data).toEqual(new Uint8Array([9, 9]));
    g.close();
    f.variable("temp").write(new Uint8Array([1]));
    expect(f.variable("temp").version).toBe(2);
  });

  it("uses the right API per kind", () => {
    const f = track(SharedFile.create(join(dir, "vars"), vars));
    expect(codeOf(() => f.stream)).toBe("COMMY_E_KIND");
    expect(codeOf(() => f.variable("nope"))).toBe("COMMY_E_UNKNOWN_VARIABLE");
    const s = track(SharedFile.create(join(dir, "s"), { kind: "stream", capacity: 8, messageMaxSize: 16 }));
    expect(codeOf(() => s.variable("temp"))).toBe("COMMY_E_KIND");
  });
});

describe("variables", () => {
  it("writes, reads copies and views, and counts versions", () => {
    const f = track(SharedFile.create(join(dir, "vars"), vars));
    const v = f.variable("temp");
    expect(v.version).toBe(0);
    expect(v.read()).toEqual({ version: 0, data: new Uint8Array(0) });
    for (let i = 1; i <= 5; i++) expect(v.write(new Uint8Array(i).fill(i))).toBe(i);
    expect(v.read()).toEqual({ version: 5, data: new Uint8Array(5).fill(5) });
    const out = new Uint8Array(64);
    expect(v.readInto(out)).toBe(5);
    expect(v.lastVersion).toBe(5);
    const view = v.readView();
    expect(view.data).toEqual(new Uint8Array(5).fill(5));
    v.write(new Uint8Array([1]));
    expect(v.isViewValid(view)).toBe(true); // version+1 went to the other buffer
    v.write(new Uint8Array([2]));
    expect(v.isViewValid(view)).toBe(false); // version+2 reused it
  });

  it("reads values of every length correctly, including unaligned targets", () => {
    const f = track(SharedFile.create(join(dir, "vars"), vars));
    const v = f.variable("big");
    const backing = new Uint8Array(4001);
    const unaligned = backing.subarray(1);
    for (const len of [0, 1, 3, 4, 5, 63, 64, 65, 1000, 3999, 4000]) {
      const value = Uint8Array.from({ length: len }, (_, i) => (i * 7 + len) & 0xff);
      v.write(value);
      expect(v.read().data).toEqual(value);
      expect(v.readInto(unaligned)).toBe(len);
      expect(unaligned.subarray(0, len)).toEqual(value);
    }
  });

  it("inline slots (maxSize ≤ 28): every length and byte pattern reads back exactly, neighbours untouched", () => {
    const f = track(
      SharedFile.create(join(dir, "vars"), {
        kind: "variables",
        slots: [
          { name: "a", maxSize: 28 },
          { name: "b", maxSize: 28 },
          { name: "c", maxSize: 29 }, // one byte more: buffers after the control lines
        ],
      }),
    );
    const layout = (f as unknown as { handle: { layout(): { slots: { bufferOffset: number; bufferStep: number }[] } } }).handle.layout();
    expect(layout.slots.map((s) => [s.bufferOffset, s.bufferStep])).toEqual([[72, 28], [72, 28], [128, 64]]);
    const [a, b, c] = ["a", "b", "c"].map((n) => f.variable(n)) as [Variable, Variable, Variable];
    const other = track(SharedFile.open(f.path!, { readOnly: true })).variable("a");
    const bValue = Uint8Array.from({ length: 28 }, (_, i) => 0xf0 ^ i);
    b.write(bValue);
    const backing = new Uint8Array(40);
    const aligned = backing.subarray(4, 32);
    const unaligned = backing.subarray(1, 29);
    for (let round = 0; round < 3; round++)
      for (let len = 0; len <= 28; len++) {
        // all-ones and NaN-like words, then the length as a marker: both buffers are exercised
        const value = Uint8Array.from({ length: len }, (_, i) => (i % 4 === 3 ? 0x7f : i === len - 1 ? len + round : 0xff));
        a.write(value);
        for (const out of [aligned, unaligned, new Uint8Array(len)]) {
          expect(other.readInto(out)).toBe(len);
          expect(out.subarray(0, len)).toEqual(value);
        }
        expect(other.read().data).toEqual(value);
        expect(other.readView().data).toEqual(value);
      }
    expect(b.read().data).toEqual(bValue); // a's buffers end inside a's line
    c.write(new Uint8Array(29).fill(9));
    expect(c.read().data).toEqual(new Uint8Array(29).fill(9));
    expect(() => a.write(new Uint8Array(29))).toThrow(expect.objectContaining({ code: "COMMY_E_TOO_LARGE" }));
    const view = a.readView();
    a.write(new Uint8Array([1]));
    expect(a.isViewValid(view)).toBe(true);
    a.write(new Uint8Array([2]));
    expect(a.isViewValid(view)).toBe(false);
  });

  it("rejects oversized values and too-small outputs, and writes through read-only handles", () => {
    const path = join(dir, "vars");
    const f = track(SharedFile.create(path, vars));
    const v = f.variable("temp");
    expect(codeOf(() => v.write(new Uint8Array(65)))).toBe("COMMY_E_TOO_LARGE");
    v.write(new Uint8Array(10));
    expect(codeOf(() => v.readInto(new Uint8Array(9)))).toBe("COMMY_E_INVALID_ARGUMENT");
    const ro = track(SharedFile.open(path, { readOnly: true }));
    expect(codeOf(() => ro.variable("temp").write(new Uint8Array(1)))).toBe("COMMY_E_READ_ONLY");
    expect(v.version).toBe(1);
  });

  it("waitForChange: notify resolves on a write without blocking the event loop; times out with false", async () => {
    const f = track(SharedFile.create(join(dir, "vars"), vars));
    const w = track(SharedFile.open(f.path!));
    const v = f.variable("temp");
    expect(await v.waitForChange(0, { timeoutMs: 30 })).toBe(false);
    // The write happens from the 5th tick of a timer: the wait can only
    // resolve if the event loop kept running timers while it was pending
    // (no timing assumption: under load the ticks just come later).
    let ticks = 0;
    const ticker = setInterval(() => {
      if (++ticks === 5) w.variable("temp").write(new Uint8Array([42]));
    }, 1);
    const changed = await v.waitForChange(0, { mode: "notify", timeoutMs: 60_000 });
    clearInterval(ticker);
    expect(changed).toBe(true);
    expect(ticks).toBeGreaterThanOrEqual(5); // timers kept running while we waited
    expect(v.read().data).toEqual(new Uint8Array([42]));
    expect(await v.waitForChange(0, { mode: "spin" })).toBe(true); // already changed
    expect(v.spinUntilChanged(1, 20)).toBe(false);
  });

  it("a pending wait rejects with COMMY_E_CLOSED when the file is closed", async () => {
    const f = SharedFile.create(join(dir, "vars"), vars);
    const p = f.variable("temp").waitForChange(0, { timeoutMs: 10_000 });
    setTimeout(() => f.close(), 20);
    await expect(p).rejects.toMatchObject({ code: "COMMY_E_CLOSED" });
  });

  it("a read-only handle can wait for changes too", async () => {
    const f = track(SharedFile.create(join(dir, "vars"), vars));
    const ro = track(SharedFile.open(f.path!, { readOnly: true }));
    setTimeout(() => f.variable("temp").write(new Uint8Array([5])), 30);
    expect(await ro.variable("temp").waitForChange(0, { timeoutMs: 10_000 })).toBe(true);
    expect(ro.variable("temp").read().data).toEqual(new Uint8Array([5]));
  });
});

describe("streams", () => {
  const msg = (n: number, len = 8) => Uint8Array.from({ length: len }, (_, i) => (n + i) & 0xff);

  it("appends and reads in order with sequence numbers, single and batched", () => {
    const f = track(SharedFile.create(join(dir, "s"), { kind: "stream", capacity: 64, messageMaxSize: 32 }));
    const s = f.stream;
    const r = s.reader({ from: "earliest" });
    expect(r.next()).toBeNull();
    expect(s.append(msg(0))).toBe(0);
    expect(s.appendBatch([msg(1), msg(2), msg(3, 32)])).toBe(1);
    const lens = new Uint32Array(4).fill(8);
    const packed = new Uint8Array(32);
    expect(s.appendPacked(packed, lens)).toBe(4);
    expect(s.head).toBe(8);
    for (let n = 0; n < 4; n++) expect(r.next()).toEqual({ seq: n, data: msg(n, n === 3 ? 32 : 8) });
    const out = new Uint8Array(64);
    const outLens = new Uint32Array(10);
    expect(r.readBatch(out, outLens)).toBe(4);
    expect(Array.from(outLens.subarray(0, 4))).toEqual([8, 8, 8, 8]);
    expect(r.position).toBe(8);
    expect(r.next()).toBeNull();
    expect(r.lost).toBe(0);
    expect(codeOf(() => s.append(new Uint8Array(33)))).toBe("COMMY_E_TOO_LARGE");
  });

  it("overwrite policy: a reader that fell behind learns exactly how many it lost", () => {
    const f = track(SharedFile.create(join(dir, "s"), { kind: "stream", capacity: 16, messageMaxSize: 8 }));
    const s = f.stream;
    const r = s.reader({ from: 0 });
    for (let n = 0; n < 100; n++) s.append(msg(n));
    const seen: number[] = [];
    for (let m = r.next(); m; m = r.next()) {
      expect(m.data).toEqual(msg(m.seq));
      seen.push(m.seq);
    }
    // head 100, capacity 16: the reader resumes at 100 - 16 + 1 = 85
    expect(seen[0]).toBe(85);
    expect(seen.at(-1)).toBe(99);
    expect(r.lost).toBe(85);
    expect(r.lost + seen.length).toBe(100);
  });

  it("refuse policy: a full stream throws COMMY_E_STREAM_FULL and accepts again once the consumer moved", () => {
    const f = track(SharedFile.create(join(dir, "s"), { kind: "stream", capacity: 8, messageMaxSize: 8, overflow: "refuse" }));
    const s = f.stream;
    const r = s.reader({ from: "latest" });
    for (let n = 0; n < 8; n++) s.append(msg(n));
    expect(codeOf(() => s.append(msg(8)))).toBe("COMMY_E_STREAM_FULL");
    expect(codeOf(() => s.appendBatch([msg(8)]))).toBe("COMMY_E_STREAM_FULL");
    expect(s.refused).toBe(2);
    expect(r.next()?.seq).toBe(0);
    expect(s.append(msg(8))).toBe(8);
    expect(codeOf(() => s.append(msg(9)))).toBe("COMMY_E_STREAM_FULL");
    r.close(); // an unregistered reader no longer holds producers back
    for (let n = 9; n < 40; n++) s.append(msg(n));
    expect(s.head).toBe(40);
  });

  it("readers start at latest, earliest, or a given sequence", () => {
    const f = track(SharedFile.create(join(dir, "s"), { kind: "stream", capacity: 4, messageMaxSize: 8 }));
    const s = f.stream;
    for (let n = 0; n < 6; n++) s.append(msg(n));
    expect(s.reader().next()).toBeNull();
    const early = s.reader({ from: "earliest" });
    const first = early.next();
    // head 6, capacity 4: seqs 2..5 are still in the ring
    expect(first?.seq).toBe(2);
    expect(early.lost).toBe(0);
    expect(s.reader({ from: 5 }).next()?.seq).toBe(5);
    expect(codeOf(() => s.reader({ from: -1 }))).toBe("COMMY_E_INVALID_ARGUMENT");
  });

  it("waitForData resolves when a message arrives", async () => {
    const f = track(SharedFile.create(join(dir, "s"), { kind: "stream", capacity: 16, messageMaxSize: 8 }));
    const r = f.stream.reader();
    expect(await r.waitForData({ timeoutMs: 20 })).toBe(false);
    setTimeout(() => f.stream.append(msg(1)), 30);
    expect(await r.waitForData({ timeoutMs: 10_000 })).toBe(true);
    expect(r.next()?.data).toEqual(msg(1));
  });
});
