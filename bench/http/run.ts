/**
 * B6: control plane, authenticated REST read at 50 concurrent connections, against the
 * production build, side by side with a baseline route in the same run.
 *
 *  - authenticated read: `GET /api/v1/files?limit=20` with `Authorization: Bearer <api key>`
 *    (key lookup — cached in-process ≤ 5 s, see services/api-keys.ts — plus one query);
 *  - baseline: `GET /api/v1/ping` (no authentication, no query): what Next.js itself costs.
 *
 * Starts its own PostgreSQL (scripts/lib/services.ts), migrates, seeds a tenant, an API key and
 * some shared files, builds the app unless `.next` already holds a build of this exact source
 * tree, runs `next start` on a free port, warms both routes up, then measures them with
 * autocannon (50 connections, ~10 s each, the two routes interleaved over rounds so drift on a
 * 2-core VM hits both alike). Prints req/s, p50, p99 and the ratio; writes .tmp/bench/http.json
 * and refreshes the "Control plane (B6)" section of docs/BENCHMARKS.md.
 *
 *   node --import tsx bench/http/run.ts
 *
 * Env: HTTP_BENCH_SECONDS (per measurement, default 10), HTTP_BENCH_ROUNDS (default 2),
 * HTTP_BENCH_CONNECTIONS (default 50), HTTP_BENCH_FILES (seeded files, default 200).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { ensureNextBuild, startNextServer } from "../../scripts/lib/app";
import { freePort, stopPid, waitFor } from "../../scripts/lib/process";
import { makeTestDir, migrateDatabase, startPostgres } from "../../scripts/lib/services";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const SECONDS = Number(process.env.HTTP_BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.HTTP_BENCH_ROUNDS ?? 2);
const CONNECTIONS = Number(process.env.HTTP_BENCH_CONNECTIONS ?? 50);
const FILES = Number(process.env.HTTP_BENCH_FILES ?? 200);
/** Wait up to this long for the machine to be quiet (1-min load average below the core count) before measuring. */
const QUIET_WAIT_S = Number(process.env.HTTP_BENCH_QUIET_WAIT ?? 180);
const TARGET_RPS = 1000;
const TARGET_P99_MS = 50;

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

/** Seeds through the services (so the data is exactly what the API would have created). */
async function seed(databaseUrl: string): Promise<{ apiKey: string }> {
  process.env.DATABASE_URL = databaseUrl;
  const { db } = await import("~/server/db");
  const { createApiKey } = await import("~/server/services/api-keys");
  const { createSharedFile } = await import("~/server/services/shared-files");
  const tenant = await db.tenant.create({ data: { name: "Bench", slug: "bench" } });
  const user = await db.user.create({ data: { email: "bench@commy.local", name: "Bench" } });
  await db.membership.create({ data: { tenantId: tenant.id, userId: user.id, role: "OWNER" } });
  const ctx = {
    actor: { type: "USER" as const, userId: user.id, label: "bench", isPlatformAdmin: false },
    tenantId: tenant.id,
    role: "OWNER" as const,
    meta: { requestId: "bench-seed", ip: "127.0.0.1", userAgent: "bench" },
  };
  for (let i = 0; i < FILES; i++) {
    const stream = i % 2 === 1;
    await createSharedFile(ctx, {
      name: `bench.file-${String(i).padStart(5, "0")}`,
      description: `benchmark file ${i}`,
      kind: stream ? "stream" : "variables",
      pattern: stream ? "publish-subscribe" : "blackboard",
      layout: stream
        ? { type: "stream", messageMaxSize: 256, capacity: 1024, overflow: "overwrite" }
        : { type: "variables", slots: [{ name: "value", maxSize: 64 }, { name: "status", maxSize: 16 }] },
    });
  }
  const key = await createApiKey(ctx, { name: "bench", scopes: ["files:read"] });
  await db.$disconnect();
  return { apiKey: key.secret };
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

async function main(): Promise<void> {
  const tmp = makeTestDir("commy-bench-http-");
  cleanups.push(() => tmp.cleanup());
  log(`PostgreSQL in ${tmp.dir}`);
  const pg = await startPostgres({ dataDir: path.join(tmp.dir, "postgres"), database: "commy_bench", ephemeral: true });
  cleanups.push(() => pg.stop());
  await migrateDatabase(pg.url);
  const { apiKey } = await seed(pg.url);
  log(`seeded 1 tenant, ${FILES} shared files, 1 API key (files:read)`);

  const started = Date.now();
  const { built } = await ensureNextBuild({
    env: { ...process.env, SKIP_ENV_VALIDATION: "1", NODE_ENV: "production" },
    logFile: path.join(tmp.dir, "next-build.log"),
    onStart: () => log("building the production app (next build)…"),
  });
  log(built ? `built in ${((Date.now() - started) / 1000).toFixed(0)} s` : "reusing the existing production build (same sources)");

  const port = await freePort();
  const server = await startNextServer({
    port,
    logFile: path.join(tmp.dir, "next-start.log"),
    env: {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: pg.url,
      NEXTAUTH_URL: `http://127.0.0.1:${port}`,
      NEXTAUTH_SECRET: randomBytes(32).toString("hex"),
      LOG_LEVEL: "warn",
      AUDIT_RETENTION_INTERVAL_MINUTES: "0",
    },
  });
  cleanups.unshift(() => server.stop()); // stopped before the database
  log(`next start on ${server.url} (pid ${server.pid})`);

  const filesUrl = `${server.url}/api/v1/files?limit=20`;
  const pingUrl = `${server.url}/api/v1/ping`;
  const auth = { authorization: `Bearer ${apiKey}` };

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
      log(`round ${round} ${which.padEnd(5)} ${m.rps.toFixed(0).padStart(6)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms  (${m.requests} requests, ${m.non2xx} non-2xx, ${m.errors} errors)`);
      // A non-2xx answer means we measured the wrong thing (e.g. a broken key): stop. Timeouts
      // and connection errors are a property of the load: record them.
      if (m.non2xx > 0) throw new Error(`${which}: ${m.non2xx} non-2xx answers — the measurement is not of successful requests`);
    }
  }

  const f = { rps: median(files.map((m) => m.rps)), p50: median(files.map((m) => m.p50)), p99: median(files.map((m) => m.p99)) };
  const p = { rps: median(ping.map((m) => m.rps)), p50: median(ping.map((m) => m.p50)), p99: median(ping.map((m) => m.p99)) };
  const results: Result[] = [
    {
      id: "B6-rps",
      name: `authenticated REST read (GET /api/v1/files?limit=20, API key), ${CONNECTIONS} conns`,
      value: Math.round(f.rps),
      unit: "req/s",
      baselineName: "GET /api/v1/ping (no auth, no query)",
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
    { id: "B6-base-rps", name: `baseline GET /api/v1/ping, ${CONNECTIONS} conns`, value: Math.round(p.rps), unit: "req/s" },
    { id: "B6-base-p50", name: "baseline latency p50", value: r1(p.p50), unit: "ms" },
    { id: "B6-base-p99", name: "baseline latency p99", value: r1(p.p99), unit: "ms" },
    { id: "B6-ref-rps", name: `reference: bare node:http server (no framework), ${CONNECTIONS} conns`, value: Math.round(bare.rps), unit: "req/s" },
  ];
  const errors = [...files, ...ping].reduce((n, m) => n + m.errors, 0);
  const load = { before: r1(loadBefore), max: r1(Math.max(loadBefore, ...files.map((m) => m.load), ...ping.map((m) => m.load))) };
  if (load.max > os.cpus().length) {
    log(`WARNING: the 1-minute load average reached ${load.max} on ${os.cpus().length} cores during the run: other processes competed for the CPU and these numbers understate the app.`);
  }

  console.log("");
  console.log("| id | what | value | baseline | ratio | target | |");
  console.log("|---|---|---|---|---|---|---|");
  for (const r of results) console.log(row(r));

  const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "cpu", node: process.version, postgres: postgresVersion(), next: nextVersion(), load, errors };
  mkdirSync(path.join(root, ".tmp", "bench"), { recursive: true });
  writeFileSync(path.join(root, ".tmp", "bench", "http.json"), JSON.stringify({ suite: "http", machine, results, rounds: { files, ping } }, null, 2));
  updateDoc(results, machine);
  log("wrote .tmp/bench/http.json and docs/BENCHMARKS.md (Control plane (B6))");
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

function postgresVersion(): string {
  try {
    return readFileSync("/usr/share/postgresql-common/supported_versions", "utf8").trim().split(/\s+/)[0] ?? "?";
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
  machine: { cpus: number; model: string; node: string; postgres: string; next: string; load: { before: number; max: number }; errors: number },
): void {
  const doc = path.join(root, "docs", "BENCHMARKS.md");
  const start = "<!-- http:start -->";
  const end = "<!-- http:end -->";
  const section = `${start}
## Control plane (B6)

Generated by \`npm run bench -- http\` (bench/http/run.ts) on ${machine.cpus} × ${machine.model}, Node ${machine.node},
Next.js ${machine.next} (\`next start\`, production build), PostgreSQL ${machine.postgres} on loopback, ${new Date().toISOString().slice(0, 10)}.
autocannon with ${CONNECTIONS} connections, ${SECONDS} s per measurement, ${ROUNDS} rounds with the two routes interleaved
(medians over rounds); load generator, app and database share the same ${machine.cpus} cores. ${FILES} shared files in the tenant.
1-minute load average ${machine.load.before} before the run, at most ${machine.load.max} during it${machine.load.max > machine.cpus ? ` (**above the core count: other processes competed for the CPU; the numbers understate the app**)` : ""}; ${machine.errors} timeouts/connection errors.

| id | what | value | baseline | ratio | target | |
|---|---|---|---|---|---|---|
${results.map(row).join("\n")}

Notes:
- The authenticated read is the full REST path: request id, Bearer API-key authentication,
  tenant resolution, permission check (\`file:read\`), query validation (zod), one keyset query
  (\`LIMIT 21\` on the \`(tenantId, name)\` index) and the JSON page of 20 files.
- API-key verification is cached in-process for at most 5 s per key (the row, not the result:
  the SHA-256 of the secret is compared on every request, expiry checked on every request).
  Revocation is immediate on the replica that revoked the key and takes ≤ 5 s on the others.
  \`lastUsedAt\` is written at most once a minute per key, off the request path.
- The baseline \`GET /api/v1/ping\` does neither authentication nor a query: the ratio is what
  Commy adds on top of Next.js's own per-request cost.
- Where the time goes (CPU profile of \`next start\` under the ping load, this VM): Next.js's
  app-route pipeline (web-stream request/response adaptation, tracing, several socket writes
  per response) costs milliseconds of CPU per request here, i.e. the baseline itself sits far
  below 1,000 req/s on this machine; Commy's own work per authenticated read (key check, one
  prepared query on a plain \`pg\` pool, JSON) is the difference between the two rows. The
  documented lever beyond one process is more replicas (the control plane is stateless).
- \`B6-ref-rps\` is a bare \`node:http\` server in its own process measured the same way: the
  ceiling of any Node.js app on this machine at that moment (and a gauge of how busy it was).
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
