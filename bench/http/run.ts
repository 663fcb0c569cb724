/**
 * B6 and B7: the control plane's authenticated REST read at 50 concurrent connections, against
 * the production build started as users start it (`server.ts`: REST and worker APIs served
 * directly, the rest by Next.js), side by side with its baselines in the same run.
 *
 *  - authenticated read: `GET /api/v1/files?limit=20` with `Authorization: Bearer <api key>`
 *    (key check — cached in-process ≤ 2 s, see services/api-keys.ts — plus one query);
 *  - baseline: `GET /api/v1/ping` (no authentication, no query), still a Next.js route handler
 *    behind the same server: what Next.js's own per-request pipeline costs;
 *  - reference: a bare `node:http` server in its own process: the ceiling here.
 *  - B7: then the tenant grows to 10,000 shared files and 1,000 nodes (real node credentials,
 *    joined through the join-token service) heartbeat through the real
 *    `POST /api/worker/heartbeat` every 5 s (200 req/s, from a separate process), and the
 *    authenticated read is measured again: ratio to its value without that load.
 *
 * Starts its own PostgreSQL (scripts/lib/services.ts), migrates, seeds a tenant, an API key and
 * shared files, builds the app unless `.next` already holds a build of this exact source tree,
 * starts the app server on a free port, warms up, then measures with autocannon (the routes
 * interleaved over rounds so drift on a 2-core VM hits both alike). Prints req/s, p50, p99 and
 * the ratios; writes .tmp/bench/http.json and refreshes the "Control plane (B6, B7)" section of
 * docs/BENCHMARKS.md.
 *
 *   node --import tsx bench/http/run.ts
 *
 * Env: HTTP_BENCH_SECONDS (per measurement, default 10), HTTP_BENCH_ROUNDS (default 2),
 * HTTP_BENCH_CONNECTIONS (default 50), HTTP_BENCH_FILES (files for B6, default 200),
 * HTTP_BENCH_B7_FILES (default 10000), HTTP_BENCH_B7_NODES (default 1000),
 * HTTP_BENCH_B7_INTERVAL_MS (heartbeat interval, default 5000), HTTP_BENCH_WORKERS (the app's
 * COMMY_HTTP_WORKERS, default 1), HTTP_BENCH_PROFILE=1 (CPU profiles of the app under load in
 * .tmp/bench/http-profile/), HTTP_BENCH_SKIP_B7=1.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { ensureNextBuild, startAppServer } from "../../scripts/lib/app";
import { freePort, stopPid, waitFor } from "../../scripts/lib/process";
import { makeTestDir, migrateDatabase, postgresBinDir, startPostgres } from "../../scripts/lib/services";
import { seed, seedScale } from "./seed";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const SECONDS = Number(process.env.HTTP_BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.HTTP_BENCH_ROUNDS ?? 2);
const CONNECTIONS = Number(process.env.HTTP_BENCH_CONNECTIONS ?? 50);
const FILES = Number(process.env.HTTP_BENCH_FILES ?? 200);
const B7_FILES = Number(process.env.HTTP_BENCH_B7_FILES ?? 10_000);
const B7_NODES = Number(process.env.HTTP_BENCH_B7_NODES ?? 1000);
const B7_INTERVAL_MS = Number(process.env.HTTP_BENCH_B7_INTERVAL_MS ?? 5000);
const SKIP_B7 = process.env.HTTP_BENCH_SKIP_B7 === "1";
const WORKERS = process.env.HTTP_BENCH_WORKERS ?? "1";
const PROFILE = process.env.HTTP_BENCH_PROFILE === "1";
/** Wait up to this long for the machine to be quiet (1-min load average below the core count) before measuring. */
const QUIET_WAIT_S = Number(process.env.HTTP_BENCH_QUIET_WAIT ?? 180);
const TARGET_RPS = 1000;
const TARGET_P99_MS = 50;
/** B7: the read under load stays within 20% of its value without it. */
const B7_MIN_RATIO = 0.8;

interface Result {
  id: string;
  name: string;
  value: number;
  unit: string;
  baselineName?: string;
  ratio?: number;
  target?: string;
  met?: boolean;
}

interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  /** Connection errors and timeouts (30 s). */
  errors: number;
  /** 1-minute load average when the measurement ended. */
  load: number;
}

interface HeartbeatStats {
  sent: number;
  ok: number;
  failed: number;
  statuses: Record<string, number>;
  rps: number;
  p50: number;
  p99: number;
  seconds: number;
  cpuMsPerBeat: number;
}

const cleanups: (() => Promise<void> | void)[] = [];
async function cleanup(): Promise<void> {
  // Every step runs even when one fails (server before the database, files last).
  for (const fn of cleanups.reverse()) await Promise.resolve().then(fn).catch((e: unknown) => console.error("cleanup:", e));
  cleanups.length = 0;
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

function log(msg: string): void {
  console.log(`[bench:http] ${msg}`);
}

function measure(url: string, headers: Record<string, string>, seconds: number): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: seconds, headers, pipelining: 1, timeout: 30 }, (err, r) => {
      if (err) return reject(err);
      resolve({
        rps: r.requests.average,
        p50: r.latency.p50,
        p99: r.latency.p99,
        requests: r.requests.total,
        non2xx: r.non2xx,
        errors: r.errors + r.timeouts,
        load: os.loadavg()[0]!,
      });
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const r1 = (x: number): number => Math.round(x * 10) / 10;
const r2 = (x: number): number => Math.round(x * 100) / 100;
const summary = (ms: Measurement[]) => ({ rps: median(ms.map((m) => m.rps)), p50: median(ms.map((m) => m.p50)), p99: median(ms.map((m) => m.p99)) });

function logRound(label: string, m: Measurement, allowEmpty = false): void {
  log(`${label.padEnd(16)} ${m.rps.toFixed(0).padStart(6)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms  (${m.requests} requests, ${m.non2xx} non-2xx, ${m.errors} errors, load ${m.load.toFixed(1)})`);
  // A non-2xx answer means we measured the wrong thing (e.g. a broken key): stop. Timeouts
  // and connection errors are a property of the load: record them.
  if (m.non2xx > 0) throw new Error(`${label}: ${m.non2xx} non-2xx answers — the measurement is not of successful requests`);
  if (m.requests === 0 && !allowEmpty) throw new Error(`${label}: no request completed in the measurement (machine overloaded?)`);
}

async function main(): Promise<void> {
  const tmp = makeTestDir("commy-bench-http-");
  cleanups.push(() => tmp.cleanup());
  log(`PostgreSQL in ${tmp.dir}`);
  const pg = await startPostgres({ dataDir: path.join(tmp.dir, "postgres"), database: "commy_bench", ephemeral: true });
  cleanups.push(() => pg.stop());
  await migrateDatabase(pg.url);
  const seeded = await seed(pg.url, FILES);
  log(`seeded 1 tenant, ${FILES} shared files, 1 API key (files:read)`);

  const started = Date.now();
  const { built } = await ensureNextBuild({
    env: { ...process.env, SKIP_ENV_VALIDATION: "1", NODE_ENV: "production" },
    logFile: path.join(tmp.dir, "next-build.log"),
    onStart: () => log("building the production app (next build)…"),
  });
  log(built ? `built in ${((Date.now() - started) / 1000).toFixed(0)} s` : "reusing the existing production build (same sources)");

  const port = await freePort();
  const profileDir = path.join(root, ".tmp", "bench", "http-profile");
  if (PROFILE) mkdirSync(profileDir, { recursive: true });
  const server = await startAppServer({
    port,
    logFile: path.join(tmp.dir, "app.log"),
    nodeArgs: PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
    env: {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: pg.url,
      NEXTAUTH_URL: `http://127.0.0.1:${port}`,
      NEXTAUTH_SECRET: randomBytes(32).toString("hex"),
      LOG_LEVEL: "warn",
      AUDIT_RETENTION_INTERVAL_MINUTES: "0",
      COMMY_HTTP_WORKERS: WORKERS,
    },
  });
  cleanups.unshift(() => server.stop()); // stopped before the database
  log(`app server (server.ts, COMMY_HTTP_WORKERS=${WORKERS}) on ${server.url} (pid ${server.pid})`);

  const filesUrl = `${server.url}/api/v1/files?limit=20`;
  const pingUrl = `${server.url}/api/v1/ping`;
  const auth = { authorization: `Bearer ${seeded.apiKey}` };

  // Correctness first: the measured route must really be the authenticated read.
  const check = await fetch(filesUrl, { headers: auth });
  const page = (await check.json()) as { items?: unknown[] };
  if (check.status !== 200 || page.items?.length !== 20) throw new Error(`GET /api/v1/files answered ${check.status}: ${JSON.stringify(page).slice(0, 300)}`);
  const unauth = await fetch(filesUrl);
  if (unauth.status !== 401) throw new Error(`GET /api/v1/files without a key answered ${unauth.status}, expected 401`);

  await waitForQuiet();
  const loadBefore = os.loadavg()[0]!;
  log(`warming up (${CONNECTIONS} connections, 3 s each); load average ${loadBefore.toFixed(1)} on ${os.cpus().length} cores`);
  await measure(pingUrl, {}, 3);
  await measure(filesUrl, auth, 3);

  // What this machine gives a bare Node.js HTTP server right now (own process, no framework):
  // the ceiling any Node.js app could reach here, and a gauge of how busy the machine is.
  const bare = await measureBareNode();
  log(`bare node:http (reference) ${bare.rps.toFixed(0)} req/s  p50 ${bare.p50} ms  p99 ${bare.p99} ms`);

  const files: Measurement[] = [];
  const ping: Measurement[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate which goes first so neither always gets the warmer machine.
    const order = round % 2 === 1 ? (["ping", "files"] as const) : (["files", "ping"] as const);
    for (const which of order) {
      const m = which === "ping" ? await measure(pingUrl, {}, SECONDS) : await measure(filesUrl, auth, SECONDS);
      (which === "ping" ? ping : files).push(m);
      logRound(`round ${round} ${which}`, m);
    }
  }

  // ── B7: 10,000 files, 1,000 nodes heartbeating ──────────────────────────────────────────────
  const loaded: Measurement[] = [];
  let heartbeats: HeartbeatStats | null = null;
  if (!SKIP_B7) {
    const t0 = Date.now();
    const credentials = await seedScale(seeded, FILES, B7_FILES, B7_NODES);
    log(`B7: tenant grown to ${B7_FILES} shared files, ${credentials.length} nodes joined (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    const check7 = await fetch(filesUrl, { headers: auth });
    if (check7.status !== 200) throw new Error(`GET /api/v1/files answered ${check7.status} after growing the tenant`);
    const credFile = path.join(tmp.dir, "node-credentials.json");
    writeFileSync(credFile, JSON.stringify(credentials), { mode: 0o600 });
    const hb = startHeartbeats(server.url, credFile);
    cleanups.unshift(() => hb.stop().then(() => undefined));
    // One full interval: every node has sent its first heartbeat, the rate is steady.
    // (No wait for a quiet machine here: the heartbeats are the load being measured.)
    await new Promise((r) => setTimeout(r, B7_INTERVAL_MS + 1000));
    await measure(filesUrl, auth, 3);
    for (let round = 1; round <= ROUNDS; round++) {
      const m = await measure(filesUrl, auth, SECONDS);
      loaded.push(m);
      // Under B7 an empty round is a result (the app drowned in heartbeats), not a broken setup.
      logRound(`B7 round ${round} files`, m, true);
    }
    heartbeats = await hb.stop();
    log(`heartbeats: ${heartbeats.ok} ok, ${heartbeats.failed} failed (${JSON.stringify(heartbeats.statuses)}), ${heartbeats.rps.toFixed(0)}/s, p50 ${r1(heartbeats.p50)} ms, p99 ${r1(heartbeats.p99)} ms`);
    if (Object.keys(heartbeats.statuses).some((s) => s !== "200" && s !== "error")) {
      throw new Error(`heartbeats answered other than 200: ${JSON.stringify(heartbeats.statuses)}`);
    }
  }

  const f = summary(files);
  const p = summary(ping);
  const results: Result[] = [
    {
      id: "B6-rps",
      name: `authenticated REST read (GET /api/v1/files?limit=20, API key), ${CONNECTIONS} conns`,
      value: Math.round(f.rps),
      unit: "req/s",
      baselineName: "Next.js route GET /api/v1/ping (no auth, no query)",
      ratio: r2(f.rps / p.rps),
      target: `≥ ${TARGET_RPS} req/s`,
      met: f.rps >= TARGET_RPS,
    },
    { id: "B6-p50", name: "authenticated REST read latency p50", value: r1(f.p50), unit: "ms", baselineName: "ping p50", ratio: p.p50 > 0 ? r2(f.p50 / p.p50) : undefined },
    {
      id: "B6-p99",
      name: "authenticated REST read latency p99",
      value: r1(f.p99),
      unit: "ms",
      baselineName: "ping p99",
      ratio: p.p99 > 0 ? r2(f.p99 / p.p99) : undefined,
      target: `< ${TARGET_P99_MS} ms`,
      met: f.p99 < TARGET_P99_MS,
    },
    { id: "B6-vs-bare", name: "authenticated REST read vs bare node:http", value: Math.round(f.rps), unit: "req/s", baselineName: "bare node:http (no framework, no work)", ratio: r2(f.rps / bare.rps) },
    { id: "B6-base-rps", name: `baseline: Next.js route GET /api/v1/ping, ${CONNECTIONS} conns`, value: Math.round(p.rps), unit: "req/s" },
    { id: "B6-base-p50", name: "baseline latency p50", value: r1(p.p50), unit: "ms" },
    { id: "B6-base-p99", name: "baseline latency p99", value: r1(p.p99), unit: "ms" },
    { id: "B6-ref-rps", name: `reference: bare node:http server (no framework), ${CONNECTIONS} conns`, value: Math.round(bare.rps), unit: "req/s" },
  ];
  if (heartbeats && loaded.length) {
    const l = summary(loaded);
    results.push(
      {
        id: "B7-rps",
        name: `B6 with ${B7_FILES} files and ${B7_NODES} nodes heartbeating every ${B7_INTERVAL_MS / 1000} s`,
        value: Math.round(l.rps),
        unit: "req/s",
        baselineName: "B6-rps (same run, without that load)",
        ratio: r2(l.rps / f.rps),
        target: `≥ ${B7_MIN_RATIO}× B6`,
        met: l.rps >= B7_MIN_RATIO * f.rps,
      },
      { id: "B7-p50", name: "B6 under B7 load, latency p50", value: r1(l.p50), unit: "ms", baselineName: "B6-p50", ratio: f.p50 > 0 ? r2(l.p50 / f.p50) : undefined },
      { id: "B7-p99", name: "B6 under B7 load, latency p99", value: r1(l.p99), unit: "ms", baselineName: "B6-p99", ratio: f.p99 > 0 ? r2(l.p99 / f.p99) : undefined, target: `< ${TARGET_P99_MS} ms`, met: l.p99 < TARGET_P99_MS },
      { id: "B7-hb-rps", name: `heartbeats answered 200 (POST /api/worker/heartbeat, ${B7_NODES} node credentials)`, value: Math.round(heartbeats.rps), unit: "req/s" },
      { id: "B7-hb-p50", name: "heartbeat latency p50", value: r1(heartbeats.p50), unit: "ms" },
      { id: "B7-hb-p99", name: "heartbeat latency p99", value: r1(heartbeats.p99), unit: "ms" },
      { id: "B7-hb-gen-cpu", name: "CPU of the heartbeat sender (its own process, on the same 2 cores) per heartbeat", value: Math.round(heartbeats.cpuMsPerBeat * 1000), unit: "µs" },
    );
  }
  const all = [...files, ...ping, ...loaded];
  const errors = all.reduce((n, m) => n + m.errors, 0);
  const load = { before: r1(loadBefore), max: r1(Math.max(loadBefore, ...all.map((m) => m.load))) };
  if (load.max > os.cpus().length) {
    log(`WARNING: the 1-minute load average reached ${load.max} on ${os.cpus().length} cores during the run: other processes competed for the CPU and these numbers understate the app.`);
  }

  console.log("");
  console.log("| id | what | value | baseline | ratio | target | |");
  console.log("|---|---|---|---|---|---|---|");
  for (const r of results) console.log(row(r));

  const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "cpu", node: process.version, postgres: postgresVersion(), next: nextVersion(), load, errors, workers: WORKERS };
  mkdirSync(path.join(root, ".tmp", "bench"), { recursive: true });
  writeFileSync(path.join(root, ".tmp", "bench", "http.json"), JSON.stringify({ suite: "http", machine, results, rounds: { files, ping, loaded }, heartbeats }, null, 2));
  updateDoc(results, machine);
  log("wrote .tmp/bench/http.json and docs/BENCHMARKS.md (Control plane (B6, B7))");
  const { db } = await import("~/server/db");
  await db.$disconnect();
}

/** The heartbeat generator (bench/http/heartbeats.ts) in its own process. */
function startHeartbeats(baseUrl: string, credentialsFile: string): { stop: () => Promise<HeartbeatStats> } {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", path.join(here, "heartbeats.ts"), baseUrl, credentialsFile, String(B7_INTERVAL_MS)], {
    cwd: root,
    stdio: ["pipe", "pipe", "inherit"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stopped: Promise<HeartbeatStats> | null = null;
  return {
    stop: () =>
      (stopped ??= (async () => {
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) await stopPid(child.pid ?? -1, { child });
        const line = out.trim().split("\n").pop() ?? "";
        try {
          return JSON.parse(line) as HeartbeatStats;
        } catch {
          throw new Error(`heartbeat generator printed no statistics: ${out.slice(0, 300)}`);
        }
      })()),
  };
}

/** A bare `node:http` JSON server in its own process, measured like the routes (5 s). */
async function measureBareNode(): Promise<Measurement> {
  const port = await freePort();
  const code = `require("node:http").createServer((q, s) => { s.setHeader("content-type", "application/json"); s.end('{"ok":true}'); }).listen(${port}, "127.0.0.1")`;
  const child = spawn(process.execPath, ["-e", code], { stdio: "ignore" });
  try {
    await waitFor("bare node:http", () => fetch(`http://127.0.0.1:${port}/`).then((r) => r.ok, () => false), { child, timeoutMs: 15_000 });
    return await measure(`http://127.0.0.1:${port}/`, {}, 5);
  } finally {
    await stopPid(child.pid ?? -1, { child });
  }
}

/** Waits (bounded) for other work on the machine to calm down, so the numbers are the app's. */
async function waitForQuiet(): Promise<void> {
  const cores = os.cpus().length;
  const deadline = Date.now() + QUIET_WAIT_S * 1000;
  let announced = false;
  while (os.loadavg()[0]! > cores && Date.now() < deadline) {
    if (!announced) log(`load average ${os.loadavg()[0]!.toFixed(1)} > ${cores} cores: waiting up to ${QUIET_WAIT_S} s for a quieter machine`);
    announced = true;
    await new Promise((r) => setTimeout(r, 5000));
  }
}

function row(r: Result): string {
  const met = r.met === undefined ? "" : r.met ? "met" : "**missed**";
  return `| ${r.id} | ${r.name} | ${r.value} ${r.unit} | ${r.baselineName ?? ""} | ${r.ratio !== undefined ? `${r.ratio}×` : ""} | ${r.target ?? ""} | ${met} |`;
}

/** The version of the PostgreSQL the benchmark starts (`postgres --version`), e.g. "15.18". */
function postgresVersion(): string {
  try {
    const out = execFileSync(path.join(postgresBinDir(), "postgres"), ["--version"], { encoding: "utf8" });
    return /\d+(\.\d+)?/.exec(out)?.[0] ?? "?";
  } catch {
    return "?";
  }
}

function nextVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(root, "node_modules", "next", "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}

/** Replaces this suite's section of docs/BENCHMARKS.md (creating the file or section if absent). */
function updateDoc(
  results: Result[],
  machine: { cpus: number; model: string; node: string; postgres: string; next: string; load: { before: number; max: number }; errors: number; workers: string },
): void {
  const doc = path.join(root, "docs", "BENCHMARKS.md");
  const start = "<!-- http:start -->";
  const end = "<!-- http:end -->";
  const section = `${start}
## Control plane (B6, B7)

Generated by \`npm run bench -- http\` (bench/http/run.ts) on ${machine.cpus} × ${machine.model}, Node ${machine.node},
Next.js ${machine.next} (production build) behind the app server \`server.ts\` (\`npm start\`; COMMY_HTTP_WORKERS=${machine.workers}),
PostgreSQL ${machine.postgres} on loopback, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC.
autocannon with ${CONNECTIONS} connections, ${SECONDS} s per measurement, ${ROUNDS} rounds with the routes interleaved
(medians over rounds); load generator, app and database share the same ${machine.cpus} cores. ${FILES} shared files in the tenant for B6;
B7 grows it to ${B7_FILES} and adds ${B7_NODES} nodes heartbeating every ${B7_INTERVAL_MS / 1000} s (${Math.round((B7_NODES * 1000) / B7_INTERVAL_MS)} req/s, separate process).
1-minute load average ${machine.load.before} before the run, at most ${machine.load.max} during it${machine.load.max > machine.cpus ? ` (**above the core count: other processes competed for the CPU; the numbers understate the app**)` : ""}; ${machine.errors} timeouts/connection errors.

| id | what | value | baseline | ratio | target | |
|---|---|---|---|---|---|---|
${results.map(row).join("\n")}

Notes:
- The authenticated read is the full REST path: request id, Bearer API-key authentication,
  tenant resolution, permission check (\`file:read\`), query validation (zod), one keyset query
  (\`LIMIT 21\` on the \`(tenantId, name)\` index) and the JSON page of 20 files.
- How it is served: \`server.ts\` is a plain \`node:http\` server that answers every route of
  \`REST_ROUTES\` and the worker endpoints itself and hands everything else (UI, tRPC, auth,
  OpenAPI, ping) to Next.js's request handler. The route files' handlers are written once
  against a small request view and return a plain answer (status, headers, complete body); the
  exported Next.js handler wraps that in web \`Request\`/\`Response\` objects, the app server
  runs the same code over node's request and writes the answer in one \`end\` with a
  Content-Length (same status, headers, body, errors, audit and rate limiting; streams still go
  through the web \`Response\`). CPU profiles of \`next start\` under load put the time in
  Next.js's app-route pipeline (routing, request/response adaptation, tracing, response piping),
  which capped even the empty ping route near 500 req/s on this VM (the ping row below is that
  pipeline, measured in this run); the direct path skips it.
- Each file's API form is stored as JSON text with every change (\`SharedFile.apiJson\`), and
  the page is those texts joined: PostgreSQL reads 3 columns of 21 index-ordered rows and the app
  neither parses nor re-serializes a file. Building the JSON in the query instead
  (\`row_to_json\` of 26 columns, the previous version) cost PostgreSQL ~0.7 ms of CPU per page
  against ~0.2 ms now, and the app ~0.2 ms more (\`bench/http/ab.ts\`, same hour: 1,051 →
  1,649 req/s, app 0.72 → 0.51 ms and PostgreSQL 0.66 → 0.32 ms of CPU per request). What
  remains on the event loop per request: the HTTP parser, \`pg\` protocol handling, the
  ~16 KB body and socket writes.
- API-key verification is cached in-process for at most 2 s per key (the row, not the result:
  the SHA-256 of the secret is compared on every request, expiry checked on every request).
  Revocation is immediate in the process that revoked the key and takes ≤ 2 s in the others.
  \`lastUsedAt\` is written at most once a minute per key, off the request path.
- The baseline \`GET /api/v1/ping\` does neither authentication nor a query and is still a
  Next.js route handler: its row is what Next.js's own per-request pipeline costs here, measured
  through the same server in the same run.
- \`B6-ref-rps\` is a bare \`node:http\` server in its own process measured the same way: the
  ceiling of any Node.js app on this machine at that moment (and a gauge of how busy it was).
- B7's nodes are real: each joined with a one-time join token (\`exchangeJoinToken\`) and sends
  \`POST /api/worker/heartbeat\` with its own \`Authorization: Node <credential>\`. The extra files
  are copies of the service-made ones under new names.
- B7: when \`B7-hb-rps\` is below the offered rate (1,000 nodes / 5 s = 200/s) the app could not keep
  up with the heartbeats and they queued. A heartbeat is one prepared statement on the plain \`pg\`
  pool: UPDATE of the node by credential hash (not revoked) that also reads the active settings
  (interval and version) and returns the node's status; an unknown or revoked credential costs one
  more lookup.
${end}`;
  let text = existsSync(doc) ? readFileSync(doc, "utf8") : "# Benchmarks\n\nRecorded by `npm run bench`. Each suite owns its section.\n";
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) text = text.slice(0, i) + section + text.slice(j + end.length);
  else text = `${text.trimEnd()}\n\n${section}\n`;
  mkdirSync(path.dirname(doc), { recursive: true });
  writeFileSync(doc, text);
}

main()
  .then(cleanup)
  .catch(async (err: unknown) => {
    console.error(err);
    await cleanup();
    process.exit(1);
  });
