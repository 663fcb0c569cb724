/**
 * Worker and client-library benchmark, with the raw native module as the baseline in the same
 * run: open latency (socket round trip + fd passing + mapping), and B1/B2/B4 through the client
 * library vs the native module directly (overhead ratio).
 *
 *   node --import tsx bench/worker/run.ts        (or: npm run bench -- worker)
 *
 * Starts its own PostgreSQL (private port, temp dir, stopped by PID), the control plane's worker
 * API (the real route handlers served in-process, see tests/worker/harness.ts: nothing measured
 * here touches the control plane after HELLO), and a real worker process. Every trial side is its
 * own process. Writes .tmp/bench/worker.json and the "Worker and client library" section of
 * docs/BENCHMARKS.md.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeTestDir, migrateDatabase, startPostgres } from "../../scripts/lib/services";

const root = fileURLToPath(new URL("../..", import.meta.url));
const QUICK = process.env.COMMY_BENCH_QUICK === "1";

interface Result {
  id: string;
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  baselineName?: string;
  ratio?: number;
  target?: string;
  met?: boolean;
}

function trial(args: Record<string, unknown>): { done: Promise<Record<string, unknown>>; ready: Promise<void> } {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "bench/worker/trial.ts"), JSON.stringify(args)], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('"ready":true')) onReady();
  });
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Record<string, unknown>>((resolve, reject) =>
    child.on("exit", (code) => {
      const last = stdout.trim().split("\n").filter((l) => !l.includes('"ready":true')).pop();
      if (stderr.trim() && code === 0) console.log(`  [${String(args.mode)}] ${stderr.trim().slice(-400)}`);
      if (code === 0 && last) resolve(JSON.parse(last) as Record<string, unknown>);
      else reject(new Error(`trial ${JSON.stringify(args.mode)} ${String(args.role ?? "")} failed (${code}): ${stderr.slice(-1500)}`));
    }),
  );
  done.catch(() => undefined);
  return { done, ready };
}

async function main(): Promise<void> {
  const tmp = makeTestDir("commy-bench-worker-");
  const pg = await startPostgres({ dataDir: `${tmp.dir}/postgres`, ephemeral: true, database: "commy_bench" });
  let stopWorker: (() => Promise<unknown>) | null = null;
  let closeCp: (() => Promise<void>) | null = null;
  try {
    await migrateDatabase(pg.url, { quiet: true });
    process.env.DATABASE_URL = pg.url;
    // Imported after DATABASE_URL is set: the harness loads the control plane's db client.
    const h = await import("../../tests/worker/harness");
    const cp = await h.startControlPlane();
    closeCp = cp.close;
    const t = await h.createTenant();
    await h.fastSettings(t);
    const key = await h.createKey(t.tenantId, ["data:write"]);
    const vars = await h.createSharedFile(t.tenantId, {
      name: "bench-vars",
      kind: "VARIABLES",
      serialization: "RAW",
      directionality: "BIDIRECTIONAL",
      persistAfterDisconnect: true,
      layout: { slots: [{ name: "v", maxSize: 64 }, { name: "ping", maxSize: 64 }, { name: "pong", maxSize: 64 }] },
    });
    const stream = await h.createSharedFile(t.tenantId, {
      name: "bench-stream",
      kind: "STREAM",
      serialization: "RAW",
      persistAfterDisconnect: true,
      maxSizeBytes: 512 << 20,
      layout: { messageMaxSize: 64, capacity: 1 << 20, overflow: "overwrite", maxConsumers: 16 },
    });
    const w = await h.joinedWorker(cp, t);
    stopWorker = () => w.stop();
    const socketPath = w.socketPath;
    const filePath = (id: string) => path.join(w.stateDir, "files", t.tenantId, `${id}.shf`);

    // Create both mappings (and write the 64 B value) through the library once.
    const { connect } = await import("../../worker/client/index");
    const c = await connect({ socketPath, apiKey: key.raw, reconnect: false });
    const vh = (await h.eventually(() => c.open("bench-vars", { side: "producer" }).catch(() => null), 5000, "open vars")) as import("../../worker/client/index").VariablesHandle;
    vh.writeRaw("v", new Uint8Array(64).fill(7));
    await h.eventually(() => c.open("bench-stream", { side: "producer" }).catch(() => null), 5000, "open stream");

    const base = { socketPath, apiKey: key.raw };
    const results: Result[] = [];
    const nOpen = QUICK ? 200 : 1000;

    // ---- open latency
    const open = await trial({ ...base, mode: "open", file: "bench-vars", n: nOpen }).done;
    const rawOpen = await trial({ ...base, mode: "raw-open", path: filePath(vars.id), n: nOpen }).done;
    results.push(
      { id: "W1", name: "open p50 (OPEN round trip + fd passing + mapping)", value: +(open.p50 as number).toFixed(1), unit: "µs", baseline: +(rawOpen.p50 as number).toFixed(1), baselineName: "native SharedFile.open by path", ratio: (open.p50 as number) / (rawOpen.p50 as number) },
      { id: "W1", name: "open p99", value: +(open.p99 as number).toFixed(1), unit: "µs" },
      { id: "W1", name: "socket round trip p50 (HEARTBEAT → ACK)", value: +(open.rtP50 as number).toFixed(1), unit: "µs" },
    );

    // ---- B1
    const nB1 = QUICK ? 2e6 : 1e7;
    const b1c = await trial({ ...base, mode: "client-b1", file: "bench-vars", n: nB1 }).done;
    const b1r = await trial({ ...base, mode: "raw-b1", path: filePath(vars.id), n: nB1 }).done;
    const b1 = b1c.nsPerOp as number;
    results.push({ id: "B1", name: "read 64 B variable via client library", value: +b1.toFixed(1), unit: "ns/op", baseline: +(b1r.nsPerOp as number).toFixed(1), baselineName: "native Variable.readInto", ratio: b1 / (b1r.nsPerOp as number), target: "≤ 100 ns", met: b1 <= 100 });

    // ---- B2 (busy-poll ping-pong)
    const nB2 = QUICK ? 20_000 : 100_000;
    async function b2(mode: string) {
      const pong = trial({ ...base, mode, role: "pong", file: "bench-vars", path: filePath(vars.id), n: nB2 });
      await pong.ready;
      const ping = trial({ ...base, mode, role: "ping", file: "bench-vars", path: filePath(vars.id), n: nB2 });
      const r = await ping.done;
      await pong.done;
      return r as { p50: number; p99: number };
    }
    const b2c = await b2("client-b2");
    const b2r = await b2("raw-b2");
    results.push(
      { id: "B2", name: "cross-process round trip p50, busy-poll, client library", value: +b2c.p50.toFixed(2), unit: "µs", baseline: +b2r.p50.toFixed(2), baselineName: "native module ping-pong", ratio: b2c.p50 / b2r.p50 },
      { id: "B2", name: "cross-process round trip p99, busy-poll, client library", value: +b2c.p99.toFixed(2), unit: "µs", baseline: +b2r.p99.toFixed(2), baselineName: "native module ping-pong", ratio: b2c.p99 / b2r.p99 },
    );

    // ---- B4 (64 B stream, producer and consumer processes)
    const nB4 = QUICK ? 1_000_000 : 4_000_000;
    async function b4(mode: string, role: string) {
      const consumer = trial({ ...base, mode, role: "consumer", file: "bench-stream", path: filePath(stream.id), n: nB4 });
      await consumer.ready;
      const producer = trial({ ...base, mode, role, file: "bench-stream", path: filePath(stream.id), n: nB4 });
      const p = (await producer.done) as { msgPerSec: number };
      const cons = (await consumer.done) as { msgPerSec: number; lost: number };
      return { produced: p.msgPerSec, consumed: cons.msgPerSec, lost: cons.lost };
    }
    for (const [role, label, target, min] of [
      ["producer", "one at a time", "≥ 1 M msg/s", 1e6],
      ["producer-batch", "packed batches of 256", "≥ 10 M msg/s", 1e7],
    ] as const) {
      const cl = await b4("client-b4", role);
      const raw = await b4("raw-b4", role);
      results.push({
        id: "B4",
        name: `stream 64 B ${label}, publish via client library`,
        value: Math.round(cl.produced),
        unit: "msg/s",
        baseline: Math.round(raw.produced),
        baselineName: "native Stream.append",
        ratio: cl.produced / raw.produced,
        target,
        met: cl.produced >= min,
      });
      results.push({ id: "B4", name: `  consumer side (${label}): received/s, lost`, value: Math.round(cl.consumed), unit: `msg/s (lost ${cl.lost})`, baseline: Math.round(raw.consumed), baselineName: `native reader (lost ${raw.lost})`, ratio: cl.consumed / raw.consumed });
    }
    await c.close();

    // ---- report
    console.log("\n| id | what | value | baseline | ratio | target |");
    for (const r of results)
      console.log(`| ${r.id} | ${r.name} | ${r.value} ${r.unit} | ${r.baseline ?? ""}${r.baselineName ? ` (${r.baselineName})` : ""} | ${r.ratio ? r.ratio.toFixed(2) + "×" : ""} | ${r.target ? `${r.target}: ${r.met ? "met" : "MISSED"}` : ""} |`);
    // Load average is recorded because these numbers are only comparable on a quiet machine.
    const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, Node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)} at the end of the run`;
    mkdirSync(path.join(root, ".tmp", "bench"), { recursive: true });
    writeFileSync(path.join(root, ".tmp", "bench", "worker.json"), JSON.stringify({ suite: "worker", machine, results }, null, 2));
    writeSection(results, machine);
  } finally {
    await stopWorker?.().catch(() => undefined);
    await closeCp?.().catch(() => undefined);
    await pg.stop();
    tmp.cleanup();
  }
}

function writeSection(results: Result[], machine: string): void {
  const file = path.join(root, "docs", "BENCHMARKS.md");
  const current = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmarks\n\nRecorded by `npm run bench`. Each suite owns its section.\n";
  const rows = results
    .map((r) => `| ${r.id} | ${r.name.trim()} | ${r.value} ${r.unit} | ${r.baseline !== undefined ? `${r.baseline} (${r.baselineName})` : ""} | ${r.ratio ? r.ratio.toFixed(2) + "×" : ""} | ${r.target ?? ""} | ${r.met === undefined ? "" : r.met ? "met" : "**missed**"} |`)
    .join("\n");
  const section = `<!-- worker:start -->
## Worker and client library (open latency, B1/B2/B4 overhead)

Generated by \`npm run bench -- worker\` (bench/worker/run.ts) on ${machine}, ${new Date().toISOString().slice(0, 10)}.
A real worker process serves the socket; every trial side is its own process; the baseline is the
native module opening the very same mapping by path, measured in the same run. Overhead ratio =
client library / native module.

| id | what | value | baseline | ratio | target | |
|---|---|---|---|---|---|---|
${rows}

Notes:
- W1 "open" = \`client.open()\`: OPEN request/response on the session socket, a second short
  connection to redeem the fd ticket (SCM_RIGHTS), \`mmap\` of the received fd and header
  validation. Authentication (HELLO) happens once per connection and is not included.
- B1/B2/B4 go through the library's handles (\`readInto\`, \`writeRaw\` + \`waitForChange(spin)\`,
  \`publishRaw\`/\`publishPacked\`, \`reader()\`): after \`open\` nothing touches the socket, so the
  ratio is the cost of the library's checks on top of the native module.
- Consumers attached read-only (directionality) cannot register a cursor in the file: with the
  "overwrite" policy a slower consumer loses messages and counts them (\`lost\`).
<!-- worker:end -->`;
  const re = /<!-- worker:start -->[\s\S]*<!-- worker:end -->/;
  const next = re.test(current) ? current.replace(re, section) : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
