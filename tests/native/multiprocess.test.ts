import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { SharedFile } from "../../native/lib/index.js";
import { finished, printed, sleep, spawnHelper, tempDir, killHelpers } from "./helpers/util.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(async () => {
  await killHelpers(); // never leave a helper running, even after a failure or timeout
  cleanup();
});

describe("variables across processes", () => {
  it.each(["reader-rw", "reader-ro"])(
    "a %s process sees every change a writer process makes, in order, via notify waits",
    async (role) => {
      const path = join(dir, "vars");
      SharedFile.create(path, { kind: "variables", slots: [{ name: "counter", maxSize: 8 }] }).close();
      const count = 500;
      const reader = spawnHelper("var-sequence.ts", [role, path, String(count)]);
      const readerDone = finished(reader);
      await printed(reader, "ready");
      const writer = await finished(spawnHelper("var-sequence.ts", ["writer", path, String(count)]));
      expect(writer.code, writer.stderr).toBe(0);
      const r = await readerDone;
      expect(r.code, r.stderr).toBe(0);
      const result = r.json as { lastValue: number; lastVersion: number; regressions: number; wakeups: number };
      expect(result.lastValue).toBe(count);
      expect(result.lastVersion).toBe(count);
      expect(result.regressions).toBe(0);
      expect(result.wakeups).toBeGreaterThan(0);
    },
  );
});

describe("streams across processes", () => {
  it("two producer processes, one consumer process: every message once, in per-producer order (refuse policy)", async () => {
    const path = join(dir, "stream");
    SharedFile.create(path, { kind: "stream", capacity: 256, messageMaxSize: 128, overflow: "refuse" }).close();
    const perProducer = 5000;
    const consumer = spawnHelper("stream-consumer.ts", [path, String(2 * perProducer), "60000", "0", "latest"]);
    const consumerDone = finished(consumer);
    await printed(consumer, "ready");
    const [a, b] = await Promise.all([
      finished(spawnHelper("stream-producer.ts", [path, "1", String(perProducer), "single"])),
      finished(spawnHelper("stream-producer.ts", [path, "2", String(perProducer), "batch"])),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const c = await consumerDone;
    expect(c.code, c.stderr).toBe(0);
    const result = c.json as { received: number; torn: number; outOfOrder: number; lost: number; seqGaps: number; producers: Record<string, number> };
    expect(result).toMatchObject({ received: 2 * perProducer, torn: 0, outOfOrder: 0, lost: 0, seqGaps: 0 });
    expect(result.producers).toEqual({ 1: perProducer - 1, 2: perProducer - 1 });
    // The ring (256) is far smaller than 10,000 messages: producers really were held back.
    const full = (a.json as { full: number }).full + (b.json as { full: number }).full;
    expect(full).toBeGreaterThan(0);
  });

  it("a read-only consumer of an overwrite stream counts what it lost, exactly", async () => {
    const path = join(dir, "stream");
    const f = SharedFile.create(path, { kind: "stream", capacity: 64, messageMaxSize: 64 });
    const total = 20000;
    const consumer = spawnHelper("stream-consumer.ts", [path, String(total), "60000", "1", "latest"]);
    const consumerDone = finished(consumer);
    await printed(consumer, "ready");
    const p = await finished(spawnHelper("stream-producer.ts", [path, "7", String(total), "batch"]));
    expect(p.code, p.stderr).toBe(0);
    const c = await consumerDone;
    expect(c.code, c.stderr).toBe(0);
    const r = c.json as { received: number; torn: number; outOfOrder: number; lost: number };
    expect(r.torn).toBe(0);
    expect(r.outOfOrder).toBe(0);
    expect(r.received + r.lost).toBe(total); // nothing unaccounted for
    expect(f.stream.head).toBe(total);
    f.close();
  });

  it("a producer SIGKILLed while appending never leaves the stream stuck; no torn message is delivered", async () => {
    const path = join(dir, "stream");
    const f = SharedFile.create(path, { kind: "stream", capacity: 1024, messageMaxSize: 4096 });
    const consumer = spawnHelper("stream-consumer.ts", [path, "1000000000", "60000", "1", "latest", "1", "1999"]);
    const consumerDone = finished(consumer);
    await printed(consumer, "ready");
    for (let round = 0; round < 10; round++) {
      const victim = spawnHelper("stream-producer.ts", [path, String(100 + round), "0", "forever"]);
      const victimDone = finished(victim);
      await printed(victim, "ready");
      await sleep(20 + Math.random() * 30);
      victim.kill("SIGKILL");
      expect((await victimDone).signal).toBe("SIGKILL");
    }
    // A survivor must still be able to append (the dead producer's lock is broken).
    const before = f.stream.head;
    const recoveriesBefore = f.stream.recoveries;
    const p = await finished(spawnHelper("stream-producer.ts", [path, "1", "2000", "single"]));
    expect(p.code, p.stderr).toBe(0);
    // All 2000 survivor messages, plus at most the one message the last victim had fully written
    // but not yet counted in `head` when it died: taking over its lock commits that message forward
    // (format spec §6, Append step 1), and only a takeover does that.
    const extra = f.stream.head - before - 2000;
    expect(extra === 0 || (extra === 1 && f.stream.recoveries > recoveriesBefore), `head moved by ${2000 + extra}`).toBe(true);
    const c = await consumerDone;
    expect(c.code, c.stderr).toBe(0);
    const r = c.json as { received: number; torn: number; outOfOrder: number; producers: Record<string, number> };
    expect(r.torn).toBe(0);
    expect(r.outOfOrder).toBe(0);
    expect(r.producers["1"]).toBe(1999); // the survivor's last message arrived
    f.close();
  });
});
