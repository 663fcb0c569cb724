// Commy trial roles (each runs in its own process, spawned by run.ts):
//   read PATH                          B1: ns per 64 B variable read
//   pong PATH MODE ROUNDS [SIZE]       B2/B3 responder: echo ping -> pong
//   ping PATH MODE ROUNDS [SIZE]       B2/B3 requester: round-trip latency of a SIZE-byte value (default 64)
//   floor-pong / floor-ping PATH - ROUNDS  B2 Node floor: raw Atomics ping-pong
//   floor-inline-pong / -ping PATH - ROUNDS  B2 Node floor with a 24 B value in the word's line
//   consume PATH MODE COUNT            B4 consumer: messages/s
//   produce PATH MODE COUNT            B4 producer
// MODE: spin | notify | notify-spin (B2/B3), single | batch (B4)
import { SharedFile } from "../../../native/lib/index.js";
import { emit, latencyStats, now } from "./common.js";

const [role, path, mode, countArg, sizeArg] = process.argv.slice(2) as [string, string, string, string, string?];
const count = Number(countArg);
const valueSize = sizeArg ? Number(sizeArg) : 64;

/** CPU time (user + system) of this process per round, since `since`. */
function cpuPerRound(since: NodeJS.CpuUsage, rounds: number): { cpu_us_per_round: number } {
  const d = process.cpuUsage(since);
  return { cpu_us_per_round: Math.round(((d.user + d.system) / rounds) * 10) / 10 };
}

function waitOpts(): { mode: "spin" | "notify"; spinMicros: number } {
  // notify-spin: spin-then-park, polling on the JS thread for 20 µs first.
  return mode === "spin" ? { mode: "spin", spinMicros: 0 } : { mode: "notify", spinMicros: mode === "notify-spin" ? 20 : 0 };
}

if (role === "read") {
  const f = SharedFile.open(path);
  const v = f.variable("b1");
  v.write(new Uint8Array(64).fill(7));
  const out = new Uint8Array(64);
  const n = 2_000_000;
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = now();
    for (let i = 0; i < n; i++) v.readInto(out);
    runs.push((now() - t0) / n);
  }
  runs.sort((a, b) => a - b);
  emit({ ns_per_op: runs[3], best_ns_per_op: runs[0], runs: runs.length, ops_per_run: n });
} else if (role === "pong") {
  const f = SharedFile.open(path);
  const ping = f.variable("ping");
  const pong = f.variable("pong");
  const buf = new Uint8Array(valueSize);
  let last = ping.version;
  process.stdout.write("ready\n");
  let cpu0 = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    if (mode === "spin") ping.spinUntilChanged(last);
    else await ping.waitForChange(last, waitOpts());
    if (i === 0) cpu0 = process.cpuUsage();
    ping.readInto(buf);
    last = ping.lastVersion;
    pong.write(buf);
  }
  emit({ done: count, backend: SharedFile.waitBackend().backend, ...cpuPerRound(cpu0, count - 1) });
} else if (role === "ping") {
  const f = SharedFile.open(path);
  const ping = f.variable("ping");
  const pong = f.variable("pong");
  const buf = new Uint8Array(valueSize).fill(1);
  const samples = new Float64Array(count);
  let last = pong.version;
  for (let i = 0; i < count; i++) {
    const t0 = now();
    ping.write(buf);
    if (mode === "spin") pong.spinUntilChanged(last);
    else await pong.waitForChange(last, waitOpts());
    pong.readInto(buf);
    last = pong.lastVersion;
    samples[i] = now() - t0;
  }
  emit(latencyStats(samples));
} else if (role === "floor-pong" || role === "floor-ping") {
  // The Node floor for B2, not Commy: two words on separate cache lines of
  // the same mapping, Atomics.store one and spin with Atomics.load on the
  // other (no lock, no data, no version protocol). Uses the unused buffers
  // of slot "b1" of the benchmark's file.
  const f = SharedFile.open(path);
  const h = (f as unknown as { handle: { buffer: ArrayBuffer; layout(): { slots: { offset: number }[] } } }).handle;
  const i32 = new Int32Array(h.buffer);
  const b1 = h.layout().slots[0]!.offset;
  const A = (b1 + 128) >> 2; // buffer 0 of b1
  const B = (b1 + 192) >> 2; // buffer 1 of b1 (next cache line)
  if (role === "floor-pong") {
    process.stdout.write("ready\n");
    for (let i = 1; i <= count; i++) {
      while (Atomics.load(i32, A) !== i);
      Atomics.store(i32, B, i);
    }
    emit({ done: count });
  } else {
    const samples = new Float64Array(count);
    for (let i = 1; i <= count; i++) {
      const t0 = now();
      Atomics.store(i32, A, i);
      while (Atomics.load(i32, B) !== i);
      samples[i - 1] = now() - t0;
    }
    emit(latencyStats(samples));
  }
} else if (role === "floor-inline-pong" || role === "floor-inline-ping") {
  // The least a Node round trip of a 24 B value can cost with Commy's
  // layout: value and version word in one cache line, the version polled
  // with plain loads (an Atomics.load every 64 polls and to check after the
  // copy), published with one Atomics.store. No lock, no double buffer, no
  // API: not Commy, its floor. Same lines as the floor above.
  const f = SharedFile.open(path);
  const h = (f as unknown as { handle: { buffer: ArrayBuffer; layout(): { slots: { offset: number }[] } } }).handle;
  const i32 = new Int32Array(h.buffer);
  const b1 = h.layout().slots[0]!.offset;
  const A = (b1 + 128) >> 2;
  const B = (b1 + 192) >> 2;
  const value = new Int32Array(6).fill(7);
  const send = (w: number, i: number) => {
    for (let k = 0; k < 6; k++) i32[w + 2 + k] = value[k]!;
    Atomics.store(i32, w, i);
  };
  const recv = (w: number, i: number) => {
    for (let n = 1; ; n++) if (((n & 63) !== 0 ? i32[w] === i : true) && Atomics.load(i32, w) === i) break;
    for (let k = 0; k < 6; k++) value[k] = i32[w + 2 + k]!;
    if (Atomics.load(i32, w) !== i) throw new Error("overtaken");
  };
  if (role === "floor-inline-pong") {
    process.stdout.write("ready\n");
    for (let i = 1; i <= count; i++) {
      recv(A, i);
      send(B, i);
    }
    emit({ done: count });
  } else {
    const samples = new Float64Array(count);
    for (let i = 1; i <= count; i++) {
      const t0 = now();
      send(A, i);
      recv(B, i);
      samples[i - 1] = now() - t0;
    }
    emit(latencyStats(samples));
  }
} else if (role === "consume") {
  const f = SharedFile.open(path);
  const r = f.stream.reader({ from: 0, register: true });
  process.stdout.write("ready\n");
  let got = 0;
  let t0 = 0;
  if (mode === "batch") {
    const out = new Uint8Array(1024 * 64);
    const lens = new Uint32Array(1024);
    while (got < count) {
      const n = r.readBatch(out, lens);
      if (n > 0 && t0 === 0) t0 = now();
      got += n;
    }
  } else {
    const out = new Uint8Array(64);
    while (got < count) {
      if (r.nextInto(out) >= 0) {
        if (got === 0) t0 = now();
        got++;
      }
    }
  }
  const seconds = (now() - t0) / 1e9;
  emit({ messages: got, seconds, msgs_per_s: Math.round(got / seconds), lost: r.lost });
} else if (role === "produce") {
  // Backpressure without exceptions: tryAppendPacked/tryAppend return what
  // they appended; when the ring is full, waitForSpace spins 20 µs on this
  // thread, then parks until the consumer advances.
  const f = SharedFile.open(path);
  const s = f.stream;
  let sent = 0;
  let full = 0;
  const waitOpts = { mode: "notify" as const, spinMicros: 20 };
  if (mode === "batch") {
    const batch = 256;
    const data = new Uint8Array(batch * 64).fill(3);
    const lens = new Uint32Array(batch).fill(64);
    while (sent < count) {
      const n = s.tryAppendPacked(data, lens, Math.min(batch, count - sent));
      sent += n;
      if (n === 0) {
        full++;
        await s.waitForSpace(batch, waitOpts);
      }
    }
  } else {
    const msg = new Uint8Array(64).fill(3);
    while (sent < count) {
      if (s.tryAppend(msg) >= 0) sent++;
      else {
        full++;
        await s.waitForSpace(1, waitOpts);
      }
    }
  }
  emit({ sent, full });
}
