/**
 * A/B of the B6 read (and optionally B7) between app servers started side by side on one
 * database: e.g. the last commit's build against the working tree, or one tree under two
 * settings. The measurements are interleaved (A, B, B, A, …) so other work on the machine hits
 * both alike, and each one also records the CPU time the app and PostgreSQL spent per request
 * (from /proc), which is what a shared 2-core machine distorts least.
 *
 *   node --import tsx bench/http/ab.ts name=DIR[,KEY=VALUE…] name=DIR[,KEY=VALUE…] …
 *
 * Each DIR is a checkout with a production build in DIR/.next; its `server.ts` is started with
 * the extra env given (NODE_ARGS=… are node flags instead, space-separated); its output goes to
 * .tmp/bench/ab-logs/app-<name>.log. Env: AB_SECONDS (per measurement, 8), AB_ROUNDS (3), AB_CONNECTIONS (50),
 * AB_FILES (200), AB_B7=1 (then grow to AB_B7_FILES=10000 files and run AB_B7_NODES=1000 nodes
 * heartbeating every 5 s against the server being measured, during its measurement only),
 * AB_PROFILE=1 (CPU profiles in .tmp/bench/ab-profile/), AB_TARGET=heartbeat (measure one joined
 * node's POST /api/worker/heartbeat instead of the B6 read).
 */
import { randomBytes } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { freePort, spawnService, stopPid, waitFor } from "../../scripts/lib/process";
import { makeTestDir, migrateDatabase, startPostgres } from "../../scripts/lib/services";
import { seed, seedScale } from "./seed";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const SECONDS = Number(process.env.AB_SECONDS ?? 8);
const ROUNDS = Number(process.env.AB_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.AB_CONNECTIONS ?? 50);
const FILES = Number(process.env.AB_FILES ?? 200);
const B7 = process.env.AB_B7 === "1";
const B7_FILES = Number(process.env.AB_B7_FILES ?? 10_000);
const B7_NODES = Number(process.env.AB_B7_NODES ?? 1000);
const B7_INTERVAL_MS = 5000;
const PROFILE = process.env.AB_PROFILE === "1";

interface Server {
  name: string;
  url: string;
  pid: number;
  child: ChildProcess;
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  appMsPerReq: number;
  /** Of which in the kernel (system time). */
  appSysMsPerReq: number;
  pgMsPerReq: number;
  /** The load generator (autocannon, this process). */
  genMsPerReq: number;
  load: number;
  hb?: string;
}

const cleanups: (() => Promise<void> | void)[] = [];
async function cleanup(): Promise<void> {
  for (const fn of cleanups.reverse()) await Promise.resolve().then(fn).catch((e: unknown) => console.error("cleanup:", e));
  cleanups.length = 0;
}
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => void cleanup().finally(() => process.exit(130)));

const TICK_MS = 1000 / 100; // USER_HZ

/** CPU time (ms) of a process: utime + stime. */
function cpuMs(pid: number): number {
  const { user, sys } = cpuSplitMs(pid);
  return user + sys;
}

/** User and system CPU time (ms) of a process. */
function cpuSplitMs(pid: number): { user: number; sys: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { user: Number(fields[11]) * TICK_MS, sys: Number(fields[12]) * TICK_MS };
  } catch {
    return { user: 0, sys: 0 };
  }
}

/** CPU time (ms) per thread of a process, by thread name (AB_THREADS=1). */
function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const key = `${name}#${tid}`;
        out.set(key, (Number(fields[11]) + Number(fields[12])) * TICK_MS);
      } catch {
        /* gone */
      }
    }
  } catch {
    /* gone */
  }
  return out;
}

/** CPU time (ms) of the postmaster and of each of its children, by pid. */
function pgCpuMs(postmaster: number): Map<number, number> {
  const out = new Map<number, number>([[postmaster, cpuMs(postmaster)]]);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === postmaster) out.set(Number(entry), (Number(fields[11]) + Number(fields[12])) * TICK_MS);
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * PostgreSQL CPU spent between two snapshots: processes alive at the end count from their first
 * snapshot (or from zero when they started in between); ones that exited in between are lost, so
 * this undercounts a little when connections come and go (idle pool timeouts), never goes below 0.
 */
function pgCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, t] of after) total += t - (before.get(pid) ?? 0);
  return Math.max(0, total);
}

/** What is measured: the B6 read (default) or, with AB_TARGET=heartbeat, one node's heartbeat alone. */
const TARGET = process.env.AB_TARGET === "heartbeat" ? "heartbeat" : "list";
const HEARTBEAT_BODY = JSON.stringify({ state: "running", version: "bench", settingsVersion: 0, catalogueEtag: null, stats: { sessions: 1, attachments: 2, mappedBytes: 65536 } });

function measure(url: string, headers: Record<string, string>, seconds: number): Promise<{ rps: number; p50: number; p99: number; total: number; non2xx: number; errors: number }> {
  const post = url.endsWith("/api/worker/heartbeat") ? { method: "POST" as const, body: HEARTBEAT_BODY, headers: { ...headers, "content-type": "application/json" } } : { headers };
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1, timeout: 30, ...post }, (err, r) => {
      if (err) return reject(err);
      resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total, non2xx: r.non2xx, errors: r.errors + r.timeouts });
    });
  });
}

async function startServer(name: string, dir: string, extraEnv: Record<string, string>, databaseUrl: string): Promise<Server> {
  const port = await freePort();
  const profileDir = path.join(root, ".tmp", "bench", "ab-profile", name);
  if (PROFILE) mkdirSync(profileDir, { recursive: true });
  // NODE_ARGS=… (space-separated) are node flags that NODE_OPTIONS refuses, e.g. --trace-gc.
  const { NODE_ARGS: nodeArgs, ...serverEnv } = extraEnv;
  const args = [
    ...(PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
    ...(nodeArgs ? nodeArgs.split(" ") : []),
    "--import", "tsx", path.join(dir, "server.ts"), "--port", String(port), "--hostname", "127.0.0.1",
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    DATABASE_URL: databaseUrl,
    NEXTAUTH_URL: `http://127.0.0.1:${port}`,
    NEXTAUTH_SECRET: randomBytes(32).toString("hex"),
    LOG_LEVEL: "warn",
    AUDIT_RETENTION_INTERVAL_MINUTES: "0",
    COMMY_HTTP_WORKERS: "1",
    ...serverEnv,
  };
  // The app's output is kept in .tmp/bench/ab-logs/ (the temp dir goes with the run).
  const keptLogs = path.join(root, ".tmp", "bench", "ab-logs");
  mkdirSync(keptLogs, { recursive: true });
  const logFile = path.join(keptLogs, `app-${name}.log`);
  const child = spawnService(process.execPath, args, { logFile, cwd: dir, env });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`app ${name}`, () => fetch(`${url}/api/v1/ping`).then((r) => r.arrayBuffer().then(() => true), () => false), { child, logFile, timeoutMs: 90_000, intervalMs: 200 });
  const server = { name, url, pid: child.pid!, child };
  cleanups.push(() => stopPid(server.pid, { child, timeoutMs: 10_000 }));
  return server;
}

function startHeartbeats(baseUrl: string, credFile: string): { stop: () => Promise<string> } {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(here, "heartbeats.ts"), baseUrl, credFile, String(B7_INTERVAL_MS)], { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    stop: async () => {
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      const s = JSON.parse(out.trim().split("\n").pop() ?? "{}") as { ok: number; failed: number; rps: number; p50: number; p99: number; statuses: Record<string, number> };
      return `hb ${s.rps?.toFixed(0)}/s ok ${s.ok} failed ${s.failed} p50 ${s.p50?.toFixed(1)} p99 ${s.p99?.toFixed(1)} ${JSON.stringify(s.statuses)}`;
    },
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const specs = process.argv.slice(2).map((arg) => {
    const [head, ...envs] = arg.split(",");
    const [name, dir] = head!.split("=");
    if (!name || !dir) throw new Error(`bad server spec ${arg}: name=DIR[,KEY=VALUE…]`);
    return { name, dir: path.resolve(dir), env: Object.fromEntries(envs.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)])) };
  });
  if (specs.length === 0) throw new Error("usage: ab.ts name=DIR[,KEY=VALUE…] …");
  const tmp = makeTestDir("commy-bench-ab-");
  cleanups.push(() => tmp.cleanup());
  const pg = await startPostgres({ dataDir: path.join(tmp.dir, "postgres"), database: "commy_bench", ephemeral: true });
  cleanups.push(() => pg.stop());
  await migrateDatabase(pg.url);
  const seeded = await seed(pg.url, FILES);
  const servers: Server[] = [];
  for (const s of specs) servers.push(await startServer(s.name, s.dir, s.env, pg.url));
  let auth: Record<string, string> = { authorization: `Bearer ${seeded.apiKey}` };
  let target = "/api/v1/files?limit=20";
  if (TARGET === "heartbeat") {
    const [credential] = await seedScale(seeded, FILES, FILES, 1);
    auth = { authorization: `Node ${credential}` };
    target = "/api/worker/heartbeat";
  }
  for (const s of servers) {
    const r = await fetch(`${s.url}${target}`, TARGET === "heartbeat" ? { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: HEARTBEAT_BODY } : { headers: auth });
    const body = await r.text();
    console.log(`[ab] ${s.name}: ${r.status}, ${body.length} bytes, headers ${JSON.stringify([...r.headers])}`);
    await measure(`${s.url}${target}`, auth, 3);
  }

  const samples = new Map<string, Sample[]>(servers.map((s) => [s.name, []]));
  const runRounds = async (label: string, credFile: string | null): Promise<void> => {
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const s of order) {
        const hb = credFile ? startHeartbeats(s.url, credFile) : null;
        if (hb) await new Promise((r) => setTimeout(r, 1500));
        const threads0 = process.env.AB_THREADS === "1" ? threadCpuMs(s.pid) : null;
        const app0 = cpuSplitMs(s.pid);
        const pg0 = pgCpuMs(pg.pid);
        const gen0 = process.cpuUsage();
        const m = await measure(`${s.url}${target}`, auth, SECONDS);
        const app1 = cpuSplitMs(s.pid);
        if (threads0) {
          const threads1 = threadCpuMs(s.pid);
          const per = [...threads1].map(([k, v]) => [k, (v - (threads0.get(k) ?? 0)) / Math.max(1, m.total)] as const).filter(([, v]) => v > 0);
          console.log(`[ab]   threads (ms/req): ${per.sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(", ")}`);
        }
        const pg1 = pgCpuMs(pg.pid);
        const gen1 = process.cpuUsage(gen0);
        const hbText = hb ? await hb.stop() : undefined;
        const sample: Sample = {
          rps: m.rps,
          p50: m.p50,
          p99: m.p99,
          non2xx: m.non2xx,
          errors: m.errors,
          appMsPerReq: (app1.user + app1.sys - app0.user - app0.sys) / Math.max(1, m.total),
          appSysMsPerReq: (app1.sys - app0.sys) / Math.max(1, m.total),
          pgMsPerReq: pgCpuDelta(pg0, pg1) / Math.max(1, m.total),
          genMsPerReq: (gen1.user + gen1.system) / 1000 / Math.max(1, m.total),
          load: os.loadavg()[0]!,
          hb: hbText,
        };
        samples.get(s.name)!.push(sample);
        console.log(
          `[ab] ${label} r${round + 1} ${s.name.padEnd(8)} ${m.rps.toFixed(0).padStart(5)} req/s p50 ${m.p50} p99 ${m.p99} ms  app ${sample.appMsPerReq.toFixed(3)} ms/req (sys ${sample.appSysMsPerReq.toFixed(3)})  pg ${sample.pgMsPerReq.toFixed(3)}  gen ${sample.genMsPerReq.toFixed(3)} ms/req  non2xx ${m.non2xx} err ${m.errors}  load ${sample.load.toFixed(2)}${hbText ? `  ${hbText}` : ""}`,
        );
      }
    }
  };
  await runRounds("B6", null);
  const summary: Record<string, unknown> = {};
  const summarize = (label: string) => {
    for (const [name, xs] of samples) {
      const line = `${label} ${name.padEnd(8)} median ${median(xs.map((x) => x.rps)).toFixed(0)} req/s  p99 ${median(xs.map((x) => x.p99))} ms  app ${median(xs.map((x) => x.appMsPerReq)).toFixed(3)} ms/req (sys ${median(xs.map((x) => x.appSysMsPerReq)).toFixed(3)})  pg ${median(xs.map((x) => x.pgMsPerReq)).toFixed(3)}  gen ${median(xs.map((x) => x.genMsPerReq)).toFixed(3)} ms/req`;
      console.log(`[ab] ${line}`);
      summary[`${label}-${name}`] = xs;
      xs.length = 0;
    }
  };
  summarize("B6");
  if (B7) {
    const credentials = await seedScale(seeded, FILES, B7_FILES, B7_NODES);
    const credFile = path.join(tmp.dir, "creds.json");
    writeFileSync(credFile, JSON.stringify(credentials));
    console.log(`[ab] B7: ${B7_FILES} files, ${credentials.length} nodes`);
    await runRounds("B7", credFile);
    summarize("B7");
  }
  mkdirSync(path.join(root, ".tmp", "bench"), { recursive: true });
  writeFileSync(path.join(root, ".tmp", "bench", "ab.json"), JSON.stringify(summary, null, 2));
  const { db } = await import("~/server/db");
  await db.$disconnect();
}

main()
  .then(cleanup)
  .catch(async (err: unknown) => {
    console.error(err);
    await cleanup();
    process.exit(1);
  });
