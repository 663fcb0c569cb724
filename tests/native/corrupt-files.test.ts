import { readFileSync, truncateSync, writeFileSync, mkdirSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { CommyError, SharedFile } from "../../native/lib/index.js";
import { tempDir } from "./helpers/util.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

function openCode(path: string, readOnly = true): string {
  try {
    SharedFile.open(path, { readOnly }).close();
  } catch (e) {
    expect(e).toBeInstanceOf(CommyError);
    return (e as CommyError).code;
  }
  return "OPENED";
}

function makeFile(kind: "variables" | "stream"): string {
  const path = join(dir, kind);
  const f =
    kind === "variables"
      ? SharedFile.create(path, { kind, slots: [{ name: "a", maxSize: 100 }, { name: "b", maxSize: 8 }], overwrite: true })
      : SharedFile.create(path, { kind, capacity: 64, messageMaxSize: 64, overwrite: true });
  f.close();
  return path;
}

function patch(path: string, offset: number, bytes: number[]): void {
  const b = readFileSync(path);
  bytes.forEach((x, i) => (b[offset + i] = x));
  writeFileSync(path, b);
}

describe.each(["variables", "stream"] as const)("%s file", (kind) => {
  it("opens when intact", () => {
    expect(openCode(makeFile(kind))).toBe("OPENED");
  });
  it("bad magic → COMMY_E_BAD_MAGIC", () => {
    const p = makeFile(kind);
    patch(p, 0, [0x58]);
    expect(openCode(p)).toBe("COMMY_E_BAD_MAGIC");
  });
  it("newer format version → COMMY_E_VERSION", () => {
    const p = makeFile(kind);
    patch(p, 8, [4, 0, 0, 0]);
    expect(openCode(p)).toBe("COMMY_E_VERSION");
  });
  it.each([1, 2])("older format version %i → COMMY_E_VERSION, saying to re-create the file", (older) => {
    const p = makeFile(kind);
    patch(p, 8, [older, 0, 0, 0]);
    expect(openCode(p)).toBe("COMMY_E_VERSION");
    expect(() => SharedFile.open(p)).toThrow(new RegExp(`format version ${older} is older than the supported version 3: re-create the file`));
  });
  it("truncated → COMMY_E_TRUNCATED (inside the region, inside the header, inside the magic)", () => {
    for (const size of [4096 + 100, 4096, 2000, 12, 5, 0]) {
      const p = makeFile(kind);
      truncateSync(p, size);
      expect([size, openCode(p)]).toEqual([size, "COMMY_E_TRUNCATED"]);
    }
  });
  it("extended beyond its header's size → COMMY_E_CORRUPT", () => {
    const p = makeFile(kind);
    appendFileSync(p, Buffer.alloc(4096));
    expect(openCode(p)).toBe("COMMY_E_CORRUPT");
  });
  it("any flipped bit in the checksummed layout → COMMY_E_CORRUPT (or a more specific code), never a crash", () => {
    const original = readFileSync(makeFile(kind));
    const p = join(dir, "flipped");
    const covered = kind === "variables" ? [...range(12, 124), ...range(4096, 4096 + 128)] : range(12, 124);
    const seen = new Set<string>();
    for (const offset of covered) {
      for (const bit of [0, 3, 7]) {
        const b = Buffer.from(original);
        b[offset]! ^= 1 << bit;
        writeFileSync(p, b);
        const code = openCode(p);
        seen.add(code);
        expect(["COMMY_E_CORRUPT", "COMMY_E_TRUNCATED"], `offset ${offset} bit ${bit}`).toContain(code);
      }
    }
    expect(seen.has("COMMY_E_CORRUPT")).toBe(true);
  });
});

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

describe("foreign files", () => {
  it("text, random bytes, a directory → typed errors", () => {
    const text = join(dir, "text");
    writeFileSync(text, "hello, this is not a shared file at all".repeat(200));
    expect(openCode(text)).toBe("COMMY_E_BAD_MAGIC");
    const random = join(dir, "random");
    writeFileSync(random, Buffer.from(Array.from({ length: 8192 }, () => Math.floor(Math.random() * 256))));
    expect(openCode(random)).toBe("COMMY_E_BAD_MAGIC");
    const d = join(dir, "dir");
    mkdirSync(d);
    expect(["COMMY_E_BAD_MAGIC", "COMMY_E_IO"]).toContain(openCode(d));
  });
  it("a valid header whose regions point outside the file → COMMY_E_CORRUPT even with a matching checksum", () => {
    // Forge: claim a huge slot offset and recompute the CRC like an attacker could.
    const p = makeFile("variables");
    const b = readFileSync(p);
    b.writeBigUInt64LE(1n << 39n, 4096 + 8); // slot 0 offset
    b.writeUInt32LE(crc32(Buffer.concat([b.subarray(0, 124), b.subarray(4096, 4096 + 128)])), 124);
    writeFileSync(p, b);
    expect(openCode(p)).toBe("COMMY_E_CORRUPT");
  });
});

function crc32(data: Buffer): number {
  let c = ~0;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return ~c >>> 0;
}
