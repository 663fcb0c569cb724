/**
 * Native data-plane benchmark (B1–B4), with baselines, in one run.
 *
 *   node --import tsx bench/native/run.ts            (or: npm run bench:native)
 *
 * Every trial runs in its own process(es); this file only orchestrates,
 * starts redis-server and nats-server on private loopback ports (stopped by
 * PID), compiles the C baselines with `cc`, prints a table with ratios and
 * writes .tmp/bench/native.json.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { SharedFile } from "../../native/lib/index.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const trials = join(root, "bench/native/trials");
const work = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "commy-bench-"));
const started: ChildProcess[] = [];
const results: Record<string, unknown> = {};
const notes: string[] = [];
const loadAtStart = loadavg().map((l) => l.toFixed(2)).join(", ");

type Json = Record<string, number>;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      s.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

function launch(cmd: string, args: string[], env?: Record<string, string>): { child: ChildProcess; out: Promise<string>; ready: Promise<void> } {
  const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  started.push(child);
  let stdout = "";
  let stderr = "";
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes("ready")) onReady();
  });
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const out = new Promise<string>((resolve, reject) =>
    child.on("exit", (code, signal) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${cmd} ${args.join(" ")} failed (${code ?? signal}): ${stderr.slice(-800)}`)),
    ),
  );
  // Servers stopped with SIGTERM exit non-zero on purpose: never let that
  // surface as an unhandled rejection.
  out.catch(() => {});
  const readyOrExit = Promise.race([ready, out.then(() => undefined)]);
  readyOrExit.catch(() => {});
  return { child, out, ready: readyOrExit };
}

const tsTrial = (file: string, args: string[], env?: Record<string, string>) =>
  launch(process.execPath, ["--import", "tsx", join(trials, file), ...args], env);

function lastJson(out: string): Json {
  return JSON.parse(out.trim().split("\n").pop()!) as Json;
}

/** A pair: responder/consumer started first (waits for "ready"), then the driver. */
async function pair(first: ReturnType<typeof launch>, makeSecond: () => ReturnType<typeof launch>, pick: "first" | "second"): Promise<Json> {
  await first.ready;
  const second = makeSecond();
  const [a, b] = await Promise.all([first.out, second.out]);
  return lastJson(pick === "first" ? a : b);
}

async function attempt(name: string, fn: () => Promise<Json>): Promise<Json | null> {
  const t0 = Date.now();
  try {
    const r = await fn();
    results[name] = r;
    process.stderr.write(`  ${name}: ${JSON.stringify(r)} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    return r;
  } catch (e) {
    const msg = (e as Error).message.split("\n")[0]!;
    results[name] = { error: msg };
    notes.push(`${name} skipped: ${msg}`);
    process.stderr.write(`  ${name}: FAILED ${msg}\n`);
    return null;
  }
}

/** ping/pong slots of `valueSize` bytes: ≤ 28 makes them inline slots
 * (format v3: the value shares the cache line of the version). */
function createVars(name: string, valueSize = 64): string {
  const path = join(work, name);
  SharedFile.create(path, {
    kind: "variables",
    slots: [
      { name: "b1", maxSize: 64 },
      { name: "ping", maxSize: valueSize },
      { name: "pong", maxSize: valueSize },
    ],
  }).close();
  return path;
}

function createStream(name: string): string {
  const path = join(work, name);
  SharedFile.create(path, { kind: "stream", capacity: 1 << 16, messageMaxSize: 64, overflow: "refuse", maxConsumers: 4 }).close();
  return path;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  process.stderr.write(`native bench: work dir ${work}\n`);
  // ---- C baselines ----
  const cbin = (name: string) => join(work, name);
  for (const name of ["pingpong", "futex", "uring-epoll"]) {
    const r = spawnSync("cc", ["-O2", "-o", cbin(name), join(root, "bench/native/c", `${name}.c`)], { encoding: "utf8" });
    if (r.status !== 0) notes.push(`cc ${name}.c failed: ${r.stderr}`);
  }
  // ---- servers ----
  const redisPort = await freePort();
  const redisDir = join(work, "redis");
  mkdirSync(redisDir);
  const redis = launch("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", redisDir, "--daemonize", "no"]);
  const natsPort = await freePort();
  const nats = launch("nats-server", ["-a", "127.0.0.1", "-p", String(natsPort)]);
  await new Promise((r) => setTimeout(r, 500));

  // ---- B1 ----
  process.stderr.write("B1 read one 64 B variable\n");
  await attempt("B1.commy", () => tsTrial("commy.ts", ["read", createVars("b1")]).out.then(lastJson));
  await attempt("B1.redis_get", () => tsTrial("redis.ts", ["get", String(redisPort)]).out.then(lastJson));

  // ---- B2 ----
  process.stderr.write("B2 busy-poll round trip\n");
  const spinRounds = "100000";
  await attempt("B2.commy_spin", () => {
    const p = createVars("b2");
    return pair(tsTrial("commy.ts", ["pong", p, "spin", spinRounds]), () => tsTrial("commy.ts", ["ping", p, "spin", spinRounds]), "second");
  });
  await attempt("B2.c_cacheline", () => launch(cbin("pingpong"), ["200000"]).out.then(lastJson));
  await attempt("B2.commy_spin_24B", () => {
    const p = createVars("b2i", 24);
    return pair(tsTrial("commy.ts", ["pong", p, "spin", spinRounds, "24"]), () => tsTrial("commy.ts", ["ping", p, "spin", spinRounds, "24"]), "second");
  });
  await attempt("B2.node_atomics_floor", () => {
    const p = createVars("b2f");
    return pair(tsTrial("commy.ts", ["floor-pong", p, "-", spinRounds]), () => tsTrial("commy.ts", ["floor-ping", p, "-", spinRounds]), "second");
  });
  await attempt("B2.node_inline_floor", () => {
    const p = createVars("b2fi");
    return pair(tsTrial("commy.ts", ["floor-inline-pong", p, "-", spinRounds]), () => tsTrial("commy.ts", ["floor-inline-ping", p, "-", spinRounds]), "second");
  });
  const sock = (n: string) => join(work, `${n}.sock`);
  await attempt("B2.unix_socket", () =>
    pair(tsTrial("uds.ts", ["echo", sock("b2"), "5000"]), () => tsTrial("uds.ts", ["ping", sock("b2"), "5000"]), "second"),
  );
  await attempt("B2.nats_request", () =>
    pair(tsTrial("nats.ts", ["respond", String(natsPort), "3000"]), () => tsTrial("nats.ts", ["request", String(natsPort), "3000"]), "second"),
  );

  // ---- B3 ----
  process.stderr.write("B3 notify (event-loop friendly) round trip\n");
  const notifyRounds = "10000";
  await attempt("B3.commy_notify", () => {
    const p = createVars("b3");
    return pair(tsTrial("commy.ts", ["pong", p, "notify", notifyRounds]), () => tsTrial("commy.ts", ["ping", p, "notify", notifyRounds]), "second");
  });
  await attempt("B3.commy_notify_threads", () => {
    const p = createVars("b3t");
    const env = { COMMY_WAIT_BACKEND: "threads" };
    return pair(tsTrial("commy.ts", ["pong", p, "notify", notifyRounds], env), () => tsTrial("commy.ts", ["ping", p, "notify", notifyRounds], env), "second");
  });
  await attempt("B3.commy_notify_spin20us", () => {
    const p = createVars("b3s");
    return pair(tsTrial("commy.ts", ["pong", p, "notify-spin", notifyRounds]), () => tsTrial("commy.ts", ["ping", p, "notify-spin", notifyRounds]), "second");
  });
  await attempt("B3.c_futex", () => launch(cbin("futex"), ["5000"]).out.then(lastJson));
  // The event-loop wait's own hops in C, no Node: io_uring FUTEX_WAIT, sleep
  // in epoll on the ring fd, drain, reply with FUTEX_WAKE, re-arm.
  await attempt("B3.c_uring_epoll", () => launch(cbin("uring-epoll"), ["epoll", "5000"]).out.then(lastJson));

  // ---- B4 ----
  process.stderr.write("B4 stream throughput, 64 B messages\n");
  await attempt("B4.commy_batch", () => {
    const p = createStream("b4b");
    return pair(tsTrial("commy.ts", ["consume", p, "batch", "5000000"]), () => tsTrial("commy.ts", ["produce", p, "batch", "5000000"]), "first");
  });
  await attempt("B4.commy_single", () => {
    const p = createStream("b4s");
    return pair(tsTrial("commy.ts", ["consume", p, "single", "1000000"]), () => tsTrial("commy.ts", ["produce", p, "single", "1000000"]), "first");
  });
  await attempt("B4.unix_socket_batch", () =>
    pair(tsTrial("uds.ts", ["sink", sock("b4b"), "2000000"]), () => tsTrial("uds.ts", ["source", sock("b4b"), "2000000", "batch"]), "first"),
  );
  await attempt("B4.unix_socket_single", () =>
    pair(tsTrial("uds.ts", ["sink", sock("b4s"), "200000"]), () => tsTrial("uds.ts", ["source", sock("b4s"), "200000", "single"]), "first"),
  );
  await attempt("B4.nats_pubsub", () =>
    pair(tsTrial("nats.ts", ["sub", String(natsPort), "200000"]), () => tsTrial("nats.ts", ["pub", String(natsPort), "200000"]), "first"),
  );

  // ---- stop servers by PID ----
  for (const s of [redis, nats]) s.child.kill("SIGTERM");
  await Promise.allSettled([redis.out, nats.out]);

  report((Date.now() - t0) / 1000);
}

function num(name: string, field: string): number | null {
  const r = results[name] as Json | undefined;
  const v = r?.[field];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function fmtNs(v: number | null): string {
  if (v === null) return "n/a";
  return v >= 10_000 ? `${(v / 1000).toFixed(1)} µs` : `${Math.round(v)} ns`;
}
function fmtRate(v: number | null): string {
  return v === null ? "n/a" : `${(v / 1e6).toFixed(2)} M/s`;
}
function ratio(a: number | null, b: number | null): string {
  return a === null || b === null || b === 0 ? "n/a" : `${(a / b).toFixed(2)}×`;
}

function report(seconds: number): void {
  const b1 = num("B1.commy", "ns_per_op");
  const b2 = num("B2.commy_spin", "p50_ns");
  const b2i = num("B2.commy_spin_24B", "p50_ns");
  const c = num("B2.c_cacheline", "p50_ns");
  const b3 = num("B3.commy_notify", "p50_ns");
  const b3s = num("B3.commy_notify_spin20us", "p50_ns");
  const b3t = num("B3.commy_notify_threads", "p50_ns");
  const fx = num("B3.c_futex", "p50_ns");
  const ue = num("B3.c_uring_epoll", "p50_ns");
  const b4b = num("B4.commy_batch", "msgs_per_s");
  const b4s = num("B4.commy_single", "msgs_per_s");
  const verdict = (ok: boolean | null) => (ok === null ? "n/a" : ok ? "met" : "MISSED");
  const rows: string[][] = [
    ["B1", "read 64 B variable (JS, median of 7 runs)", fmtNs(b1), "≤ 100 ns", verdict(b1 === null ? null : b1 <= 100), `Redis GET ${fmtNs(num("B1.redis_get", "ns_per_op"))} = ${ratio(num("B1.redis_get", "ns_per_op"), b1)} slower`],
    ["B2", "busy-poll round trip, 64 B value, p50 / p99", `${fmtNs(b2)} / ${fmtNs(num("B2.commy_spin", "p99_ns"))}`, "p50 ≤ 2× C", verdict(b2 === null || c === null ? null : b2 <= 2 * c), `C cache-line ${fmtNs(c)} / ${fmtNs(num("B2.c_cacheline", "p99_ns"))} (Commy ${ratio(b2, c)}); Node floor (raw Atomics ping-pong, no data) ${fmtNs(num("B2.node_atomics_floor", "p50_ns"))} (Commy ${ratio(b2, num("B2.node_atomics_floor", "p50_ns"))}, floor ${ratio(num("B2.node_atomics_floor", "p50_ns"), c)} C); Unix socket ${fmtNs(num("B2.unix_socket", "p50_ns"))} (${ratio(num("B2.unix_socket", "p50_ns"), b2)} slower); NATS req/rep ${fmtNs(num("B2.nats_request", "p50_ns"))} (${ratio(num("B2.nats_request", "p50_ns"), b2)} slower)`],
    ["B2", "same, 24 B value (inline slot) p50 / p99", `${fmtNs(b2i)} / ${fmtNs(num("B2.commy_spin_24B", "p99_ns"))}`, "p50 ≤ 2× C", verdict(b2i === null || c === null ? null : b2i <= 2 * c), `C cache-line ${fmtNs(c)} (Commy ${ratio(b2i, c)}); Node floor ${fmtNs(num("B2.node_atomics_floor", "p50_ns"))} (Commy ${ratio(b2i, num("B2.node_atomics_floor", "p50_ns"))}); Node floor with a 24 B value in the line (plain-load polling, no lock, no API) ${fmtNs(num("B2.node_inline_floor", "p50_ns"))} (Commy ${ratio(b2i, num("B2.node_inline_floor", "p50_ns"))}, floor ${ratio(num("B2.node_inline_floor", "p50_ns"), c)} C)`],
    ["B3", "notify round trip p50 / p99", `${fmtNs(b3)} / ${fmtNs(num("B3.commy_notify", "p99_ns"))}`, "p50 ≤ 1.5× futex", verdict(b3 === null || fx === null ? null : b3 <= 1.5 * fx), `raw futex ${fmtNs(fx)} / ${fmtNs(num("B3.c_futex", "p99_ns"))} (${ratio(b3, fx)}); the same hops in C (io_uring futex wait + epoll, no Node) ${fmtNs(ue)} (${ratio(ue, fx)} futex; Commy ${ratio(b3, ue)} of it); backend ${SharedFile.waitBackend().backend}; waiter-thread fallback ${fmtNs(b3t)} (${ratio(b3t, fx)}); spin-then-park spinMicros=20: ${fmtNs(b3s)} / ${fmtNs(num("B3.commy_notify_spin20us", "p99_ns"))} (${ratio(b3s, fx)})`],
    ["B4", "stream 64 B, batched", fmtRate(b4b), "≥ 10 M/s", verdict(b4b === null ? null : b4b >= 10e6), `Unix socket batched ${fmtRate(num("B4.unix_socket_batch", "msgs_per_s"))} (${ratio(b4b, num("B4.unix_socket_batch", "msgs_per_s"))}); NATS pub/sub ${fmtRate(num("B4.nats_pubsub", "msgs_per_s"))} (${ratio(b4b, num("B4.nats_pubsub", "msgs_per_s"))})`],
    ["B4", "stream 64 B, one at a time", fmtRate(b4s), "≥ 1 M/s", verdict(b4s === null ? null : b4s >= 1e6), `Unix socket one write per message ${fmtRate(num("B4.unix_socket_single", "msgs_per_s"))} (${ratio(b4s, num("B4.unix_socket_single", "msgs_per_s"))})`],
  ];
  const header = ["id", "what", "Commy", "target", "verdict", "baselines (same run)"];
  const table = [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}, ${process.platform} ${process.arch}`;
  const load = loadavg().map((l) => l.toFixed(2)).join(", ");
  console.log(`\nNative data plane (B1–B4) — ${machine}; total ${seconds.toFixed(0)} s; load average at start ${loadAtStart}, at end ${load}\n`);
  console.log(table);
  if (notes.length) console.log("\nNotes:\n" + notes.map((n) => `- ${n}`).join("\n"));
  const outDir = join(root, ".tmp/bench");
  mkdirSync(outDir, { recursive: true });
  // `results`: the headline rows in the shape scripts/bench.mjs summarizes;
  // `raw`: every trial's own output.
  const r2 = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? undefined : Math.round((a / b) * 100) / 100);
  const headline = [
    { id: "B1", name: "read 64 B variable (JS)", value: b1, unit: "ns", baselineName: "Redis GET", ratio: r2(num("B1.redis_get", "ns_per_op"), b1), target: "≤ 100 ns", met: b1 === null ? undefined : b1 <= 100 },
    { id: "B2", name: "busy-poll round trip p50, 64 B value", value: b2, unit: "ns", baselineName: "C cache-line ping-pong", ratio: r2(b2, c), target: "≤ 2× C", met: b2 === null || c === null ? undefined : b2 <= 2 * c },
    { id: "B2", name: "busy-poll round trip p50, 24 B value (inline slot)", value: b2i, unit: "ns", baselineName: "C cache-line ping-pong", ratio: r2(b2i, c), target: "≤ 2× C", met: b2i === null || c === null ? undefined : b2i <= 2 * c },
    { id: "B3", name: "notify round trip p50", value: b3, unit: "ns", baselineName: "raw futex ping-pong", ratio: r2(b3, fx), target: "≤ 1.5× futex", met: b3 === null || fx === null ? undefined : b3 <= 1.5 * fx },
    { id: "B4", name: "stream 64 B batched", value: b4b, unit: "msg/s", target: "≥ 10 M/s", met: b4b === null ? undefined : b4b >= 10e6 },
    { id: "B4", name: "stream 64 B one at a time", value: b4s, unit: "msg/s", target: "≥ 1 M/s", met: b4s === null ? undefined : b4s >= 1e6 },
  ];
  writeFileSync(
    join(outDir, "native.json"),
    JSON.stringify({ suite: "native", machine, date: new Date().toISOString(), seconds, loadAtStart, loadAtEnd: load, results: headline, raw: results, table, notes }, null, 2),
  );
  console.log(`\nwrote .tmp/bench/native.json`);
}

try {
  await main();
} finally {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
}
