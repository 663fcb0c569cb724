/**
 * Real PostgreSQL and Redis for development (`scripts/up`) and tests (integration global
 * setup, Playwright global setup). Each start function returns `{ url, pid, stop() }`.
 *
 * - Everything listens on 127.0.0.1 on a free port; nothing touches a system-wide instance.
 * - PostgreSQL runs from its own data dir and socket dir. `initdb` refuses to run as root, so
 *   as root the cluster belongs to the `postgres` user (created by Debian's package).
 * - Processes are stopped by the PID we started them with (see process.ts), never by name.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { connect } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  freePort,
  isAlive,
  readPidFile,
  run,
  spawnService,
  stopPid,
  waitFor,
  type RunningService,
} from "./process";

export type { RunningService } from "./process";
export { freePort, stopPid } from "./process";

/** The repository root (this file lives in scripts/lib). */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

const isRoot = process.getuid?.() === 0;

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

/** Directory holding initdb/postgres/pg_isready: $PG_BIN, the newest /usr/lib/postgresql/N/bin, or PATH. */
export function postgresBinDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const base = "/usr/lib/postgresql";
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(path.join(base, v, "bin", "postgres")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(base, versions[0], "bin");
  }
  try {
    return path.dirname(execFileSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" }).trim());
  } catch {
    throw new Error(
      "PostgreSQL server binaries not found (looked in $PG_BIN, /usr/lib/postgresql/*/bin, PATH). " +
        "Install them: apt-get install -y postgresql",
    );
  }
}

/**
 * Command prefix that runs a PostgreSQL server binary as the `postgres` user when we are root.
 * `setpriv` execs in place (the PID we get is the postmaster's own); `runuser` forks and waits,
 * so it is only the fallback.
 */
function asPostgresUser(cmd: string, args: string[]): [string, string[]] {
  if (!isRoot) return [cmd, args];
  if (existsSync("/usr/bin/setpriv")) {
    return ["/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", cmd, ...args]];
  }
  return ["runuser", ["-u", "postgres", "--", cmd, ...args]];
}

function giveToPostgres(dir: string): void {
  if (!isRoot) return;
  execFileSync("chown", ["-R", "postgres:postgres", dir]);
}

/**
 * True when the server user can create and use `dir` (as root: the `postgres` user must be able
 * to traverse every parent, which fails under a 0700 home such as /root).
 */
export function postgresCanUse(dir: string): boolean {
  if (!isRoot) return true;
  let probe = path.resolve(dir);
  while (!existsSync(probe)) probe = path.dirname(probe);
  const [cmd, args] = asPostgresUser("test", ["-x", probe]);
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export interface PostgresOptions {
  /** Cluster directory. Reused when it already holds a cluster (no second initdb). */
  dataDir: string;
  /** Database to create if missing (default "commy"). */
  database?: string;
  /** Port to try first (e.g. the one used last time); any free port otherwise. */
  preferredPort?: number;
  /**
   * Test mode: fsync/synchronous_commit/full_page_writes off. Never for data you keep:
   * a crash can corrupt the cluster.
   */
  ephemeral?: boolean;
  /** Log file (default: <dataDir>/../postgres.log). */
  logFile?: string;
  /** Own process group, so a terminal Ctrl-C reaches only the orchestrator. */
  detached?: boolean;
}

export interface PostgresService extends RunningService {
  port: number;
  database: string;
  dataDir: string;
}

/**
 * Starts a PostgreSQL cluster on 127.0.0.1:<free port> with trust authentication (the port is
 * loopback-only and the cluster is private to this checkout or test run), creates the database,
 * and returns its URL `postgresql://postgres@127.0.0.1:PORT/DB`.
 */
export async function startPostgres(opts: PostgresOptions): Promise<PostgresService> {
  const bin = postgresBinDir();
  const dataDir = path.resolve(opts.dataDir);
  const database = opts.database ?? "commy";
  const logFile = opts.logFile ?? path.join(path.dirname(dataDir), "postgres.log");
  mkdirSync(path.dirname(logFile), { recursive: true });

  const stalePid = readPidFile(path.join(dataDir, "postmaster.pid"));
  if (stalePid && isAlive(stalePid)) {
    throw new Error(
      `PostgreSQL is already running from ${dataDir} (pid ${stalePid}). ` +
        `Stop the other 'scripts/up' first (Ctrl-C), or stop that PID.`,
    );
  }

  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    mkdirSync(dataDir, { recursive: true });
    chmodSync(dataDir, 0o700);
    giveToPostgres(dataDir);
    const [cmd, args] = asPostgresUser(path.join(bin, "initdb"), [
      "-D", dataDir,
      "-U", "postgres",
      "--auth=trust",
      "--encoding=UTF8",
      "--no-locale",
      ...(opts.ephemeral ? ["--no-sync"] : []),
    ]);
    await run(cmd, args, { cwd: "/" });
  }

  // A socket dir of its own, short enough for the 107-byte socket path limit wherever the
  // checkout lives. Removed on stop.
  const socketDir = mkdtempSync(path.join(os.tmpdir(), "commy-pgsock-"));
  chmodSync(socketDir, 0o700);
  giveToPostgres(socketDir);

  const settings = [
    "listen_addresses=127.0.0.1",
    `unix_socket_directories=${socketDir}`,
    "max_connections=200",
    ...(opts.ephemeral ? ["fsync=off", "synchronous_commit=off", "full_page_writes=off"] : []),
  ];

  let lastError: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await freePort(attempt === 0 ? opts.preferredPort : undefined);
    const [cmd, args] = asPostgresUser(path.join(bin, "postgres"), [
      "-D", dataDir,
      "-p", String(port),
      ...settings.flatMap((s) => ["-c", s]),
    ]);
    // SIGINT (fast shutdown) if we die without stopping it.
    const child = spawnService(cmd, args, { logFile, cwd: "/", detached: opts.detached, parentDeathSignal: "SIGINT" });
    try {
      await waitFor(
        "PostgreSQL",
        async () => {
          try {
            await run(path.join(bin, "pg_isready"), ["-q", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres"]);
            return true;
          } catch {
            return false;
          }
        },
        { child, logFile, timeoutMs: 60_000 },
      );
    } catch (err) {
      lastError = err;
      await stopPid(child.pid ?? -1, { child, signal: "SIGINT" });
      continue; // most likely the port was taken between picking and binding: try another
    }

    const pid = child.pid!;
    let stopped = false;
    const service: PostgresService = {
      url: `postgresql://postgres@127.0.0.1:${port}/${database}`,
      pid,
      port,
      database,
      dataDir,
      // SIGINT is PostgreSQL's "fast" shutdown: it disconnects clients and shuts down cleanly.
      // SIGTERM ("smart") would wait for every client (an app's pool) to leave by itself.
      async stop() {
        if (stopped) return;
        stopped = true;
        await stopPid(pid, { child, signal: "SIGINT", timeoutMs: 15_000 });
        rmSync(socketDir, { recursive: true, force: true });
      },
    };
    try {
      await ensureDatabase(bin, port, database);
    } catch (err) {
      await service.stop();
      throw err;
    }
    return service;
  }
  rmSync(socketDir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

async function ensureDatabase(bin: string, port: number, database: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`invalid database name: ${database}`);
  const psql = path.join(bin, "psql");
  const common = ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-X", "-q", "-t", "-A"];
  const exists = await run(psql, [...common, "-d", "postgres", "-c", `select 1 from pg_database where datname = '${database}'`]);
  if (exists.trim() !== "1") await run(psql, [...common, "-d", "postgres", "-c", `create database ${database}`]);
}

// ---------------------------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------------------------

export interface RedisOptions {
  /** Working dir: RDB/AOF files, pidfile, log. */
  dir: string;
  preferredPort?: number;
  /** Keep data across restarts: RDB snapshots plus an append-only file. Off for tests (`--save ''`). */
  persist?: boolean;
  /** Append-only file on top of snapshots (default: same as `persist`). */
  appendOnly?: boolean;
  logFile?: string;
  detached?: boolean;
}

export interface RedisService extends RunningService {
  port: number;
}

/** Path of redis-server, or a clear error telling what to install. */
export function redisServerBin(): string {
  for (const p of [process.env.REDIS_SERVER, "/usr/bin/redis-server", "/usr/local/bin/redis-server"]) {
    if (p && existsSync(p)) return p;
  }
  try {
    return execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("redis-server not found. Install it: apt-get install -y redis-server");
  }
}

/** Starts redis-server on 127.0.0.1:<free port> in its own dir; returns `redis://127.0.0.1:PORT`. */
export async function startRedis(opts: RedisOptions): Promise<RedisService> {
  const bin = redisServerBin();
  const dir = path.resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const logFile = opts.logFile ?? path.join(dir, "redis.log");
  const pidFile = path.join(dir, "redis.pid");
  const stalePid = readPidFile(pidFile);
  if (stalePid && isAlive(stalePid)) {
    throw new Error(`Redis is already running from ${dir} (pid ${stalePid}). Stop the other 'scripts/up' first.`);
  }
  const persist = opts.persist ?? false;
  const appendOnly = opts.appendOnly ?? persist;

  let lastError: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await freePort(attempt === 0 ? opts.preferredPort : undefined);
    const args = [
      "--port", String(port),
      "--bind", "127.0.0.1",
      "--dir", dir,
      "--pidfile", pidFile,
      "--daemonize", "no",
      "--logfile", "",
      "--save", persist ? "3600 1 300 100 60 10000" : "",
      "--appendonly", appendOnly ? "yes" : "no",
    ];
    const child = spawnService(bin, args, { logFile, cwd: dir, detached: opts.detached });
    try {
      await waitFor("Redis", () => redisPing(port), { child, logFile, timeoutMs: 30_000 });
    } catch (err) {
      lastError = err;
      await stopPid(child.pid ?? -1, { child });
      continue;
    }
    const pid = child.pid!;
    let stopped = false;
    return {
      url: `redis://127.0.0.1:${port}`,
      pid,
      port,
      // SIGTERM: Redis writes its snapshot/AOF (when persistent) and exits.
      async stop() {
        if (stopped) return;
        stopped = true;
        await stopPid(pid, { child, timeoutMs: 15_000 });
      },
    };
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

/** Sends a raw RESP PING; true on +PONG. */
export function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port });
    let buf = "";
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(2_000, () => done(false));
    sock.once("connect", () => sock.write("*1\r\n$4\r\nPING\r\n"));
    sock.on("data", (d) => {
      buf += d.toString();
      if (buf.includes("\r\n")) done(buf.startsWith("+PONG"));
    });
    sock.once("error", () => done(false));
  });
}

// ---------------------------------------------------------------------------------------------
// Migrations
// ---------------------------------------------------------------------------------------------

/**
 * Applies the committed migrations with `prisma migrate deploy` (offline: Prisma 6's bundled
 * Wasm schema engine, see prisma.config.ts). Runs the CLI through node directly (no npx).
 */
export async function migrateDatabase(databaseUrl: string, opts: { quiet?: boolean } = {}): Promise<string> {
  const cli = path.join(projectRoot, "node_modules", "prisma", "build", "index.js");
  return run(process.execPath, [cli, "migrate", "deploy"], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl, CHECKPOINT_DISABLE: "1", PRISMA_HIDE_UPDATE_MESSAGE: "1" },
    inherit: opts.quiet === false,
  });
}

// ---------------------------------------------------------------------------------------------
// Temp dirs for tests
// ---------------------------------------------------------------------------------------------

/**
 * A fresh temp dir for one test run's services (under $TMPDIR, reachable by the postgres user).
 * The caller removes it with `cleanup()` after stopping the services.
 */
export function makeTestDir(prefix = "commy-test-"): { dir: string; cleanup(): void } {
  sweepStaleTestDirs();
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  // mkdtemp makes it 0700; the postgres user needs to reach its own sub-directory.
  if (isRoot) chmodSync(dir, 0o711);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const TEST_DIR = /^commy-(test|integration|e2e|pgsock)-[A-Za-z0-9]{6}$/;
const STALE_AFTER_MS = 2 * 60 * 60 * 1000;

/**
 * Removes temp dirs of test runs that were killed before their teardown: older than two hours
 * and with no live PostgreSQL or Redis (by their pidfiles) inside; likewise empty PostgreSQL
 * socket dirs. Runs in progress (other
 * checkouts, other developers) are never touched.
 */
export function sweepStaleTestDirs(): void {
  let entries: string[];
  try {
    entries = readdirSync(os.tmpdir()).filter((e) => TEST_DIR.test(e));
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = path.join(os.tmpdir(), entry);
    try {
      if (Date.now() - statSync(dir).mtimeMs < STALE_AFTER_MS) continue;
      if (entry.startsWith("commy-pgsock-")) {
        // A socket dir whose server is gone is empty (PostgreSQL removes its socket and lock).
        if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true, force: true });
        continue;
      }
      const pids = [path.join(dir, "postgres", "postmaster.pid"), path.join(dir, "redis", "redis.pid")].map(readPidFile);
      if (pids.some((pid) => pid !== undefined && isAlive(pid))) continue;
      rmSync(dir, { recursive: true, force: true });
    } catch {
      /* someone else's, or gone meanwhile */
    }
  }
}
