/**
 * `scripts/up`, after the machine and npm prerequisites are in place (scripts/up does those in
 * bash, then execs this). Brings the whole system up from `.data/` and keeps it running until
 * Ctrl-C or SIGTERM, then stops everything it started, newest first, by PID.
 *
 *   scripts/up [--port N] [--reset] [--rebuild]
 *
 * --port N    app port (default: 3000, or the next free one)
 * --reset     delete .data/ (database, Redis data, logs) before starting; keeps .env.local's secret
 * --rebuild   run `next build` even if .next holds a build of the current sources
 */
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { spawn } from "node:child_process";
import { cmdlineOf, freePort, isAlive, isPortFree, readPidFile, run, stopPid, withParentDeathSignal, type RunningService } from "./process";
import { migrateDatabase, postgresCanUse, projectRoot, startPostgres, startRedis } from "./services";
import { ensureNextBuild, startAppServer, startOidcProvider } from "./app";

const { values: flags } = parseArgs({
  options: {
    port: { type: "string" },
    reset: { type: "boolean" },
    rebuild: { type: "boolean" },
  },
});

const dataDir = path.join(projectRoot, ".data");
const logDir = path.join(dataDir, "logs");
const runDir = path.join(dataDir, "run");
const envFile = path.join(projectRoot, ".env.local");
const upPidFile = path.join(runDir, "up.pid");

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const log = (msg: string) => console.log(`${bold("[commy]")} ${msg}`);

/** Everything we started, in start order; stopped in reverse. */
const started: Array<{ name: string; service: RunningService }> = [];
let shuttingDown = false;

async function shutdown(code: number): Promise<never> {
  if (shuttingDown) return new Promise<never>(() => undefined);
  shuttingDown = true;
  if (started.length) log("stopping…");
  for (const { name, service } of [...started].reverse()) {
    try {
      await service.stop();
      log(`  stopped ${name} (pid ${service.pid})`);
    } catch (err) {
      console.error(`[commy]   could not stop ${name} (pid ${service.pid}): ${(err as Error).message}`);
    }
  }
  rmSync(upPidFile, { force: true });
  rmSync(path.join(runDir, "children.json"), { force: true });
  process.exit(code);
}

function track(name: string, service: RunningService): void {
  started.push({ name, service });
  // Recorded so that the next `scripts/up` can clean up after a run that was killed with -9.
  writeFileSync(
    path.join(runDir, "children.json"),
    JSON.stringify(started.map(({ name, service }) => ({ name, pid: service.pid, cmdline: cmdlineOf(service.pid) }))),
  );
}

/** A previous `scripts/up` that died without cleaning up leaves its children: stop exactly those. */
async function reapPreviousRun(): Promise<void> {
  const prev = readPidFile(upPidFile);
  if (prev && prev !== process.pid && isAlive(prev) && cmdlineOf(prev).includes("scripts/lib/up.ts")) {
    console.error(`[commy] scripts/up is already running (pid ${prev}). Stop it with Ctrl-C in its terminal (or kill ${prev}).`);
    process.exit(1);
  }
  const childrenFile = path.join(runDir, "children.json");
  if (!existsSync(childrenFile)) return;
  const children = JSON.parse(readFileSync(childrenFile, "utf8")) as Array<{ name: string; pid: number; cmdline: string }>;
  for (const c of children.reverse()) {
    // Only when the PID still runs the very command we started (PIDs get reused).
    if (c.cmdline && isAlive(c.pid) && cmdlineOf(c.pid) === c.cmdline) {
      log(`stopping ${c.name} left over from a previous run (pid ${c.pid})`);
      await stopPid(c.pid, { signal: c.name === "postgres" ? "SIGINT" : "SIGTERM" });
    }
  }
  rmSync(childrenFile, { force: true });
}

// ---------------------------------------------------------------------------------------------
// .env.local
// ---------------------------------------------------------------------------------------------

function readEnvFile(file: string): Map<string, string> {
  const vars = new Map<string, string>();
  if (!existsSync(file)) return vars;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) vars.set(m[1]!, m[2]!.replace(/^"(.*)"$/, "$1"));
  }
  return vars;
}

const MANAGED_HEADER = "# Written by scripts/up. Lines you add below the managed block are kept.";

function writeEnvFile(file: string, managed: Record<string, string>, previous: Map<string, string>): void {
  const lines = [MANAGED_HEADER, ...Object.entries(managed).map(([k, v]) => `${k}=${v}`), ""];
  const extra = [...previous].filter(([k]) => !(k in managed));
  if (extra.length) lines.push("# Your own settings", ...extra.map(([k, v]) => `${k}=${v}`), "");
  writeFileSync(file, lines.join("\n"), { mode: 0o600 });
}

const portOf = (url: string | undefined) => {
  try {
    return url ? Number(new URL(url).port) || undefined : undefined;
  } catch {
    return undefined;
  }
};

async function appPort(): Promise<number> {
  if (flags.port) {
    const p = Number(flags.port);
    if (!(await isPortFree(p))) throw new Error(`port ${p} is in use`);
    return p;
  }
  for (let p = 3000; p < 3100; p++) if (await isPortFree(p)) return p;
  throw new Error("no free port between 3000 and 3099 (use --port N)");
}

/**
 * Where the PostgreSQL cluster lives: `.data/postgres`. As root, the cluster belongs to the
 * postgres user, which cannot enter a checkout under a 0700 directory such as /root; then the
 * cluster goes to /var/lib/commy/<checkout hash>/postgres and `.data/postgres` links to it.
 */
function postgresDataDir(): string {
  const inProject = path.join(dataDir, "postgres");
  try {
    if (lstatSync(inProject).isSymbolicLink()) return readlinkSync(inProject);
  } catch {
    /* not there yet */
  }
  if (postgresCanUse(inProject)) return inProject;
  const outside = path.join("/var/lib/commy", createHash("sha256").update(projectRoot).digest("hex").slice(0, 12), "postgres");
  mkdirSync(path.dirname(outside), { recursive: true, mode: 0o755 });
  symlinkSync(outside, inProject);
  log(`the postgres user cannot enter ${projectRoot}; the cluster lives in ${outside} (linked from .data/postgres)`);
  return outside;
}

// ---------------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (flags.reset) {
    const pgLink = path.join(dataDir, "postgres");
    try {
      if (lstatSync(pgLink).isSymbolicLink()) rmSync(readlinkSync(pgLink), { recursive: true, force: true });
    } catch {
      /* nothing to reset */
    }
    mkdirSync(runDir, { recursive: true });
    await reapPreviousRun();
    rmSync(dataDir, { recursive: true, force: true });
    log("reset: removed .data/");
  }
  mkdirSync(logDir, { recursive: true });
  mkdirSync(runDir, { recursive: true });
  await reapPreviousRun();
  writeFileSync(upPidFile, String(process.pid));

  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => void shutdown(0));

  const previous = readEnvFile(envFile);
  const port = await appPort();
  const appUrl = `http://127.0.0.1:${port}`;

  log("starting PostgreSQL and Redis");
  const [pg, redis] = await Promise.all([
    startPostgres({
      dataDir: postgresDataDir(),
      logFile: path.join(logDir, "postgres.log"),
      preferredPort: portOf(previous.get("DATABASE_URL")),
      detached: true,
    }).then((s) => (track("postgres", s), s)),
    startRedis({
      dir: path.join(dataDir, "redis"),
      logFile: path.join(logDir, "redis.log"),
      preferredPort: portOf(previous.get("REDIS_URL")),
      persist: true,
      detached: true,
    }).then((s) => (track("redis", s), s)),
  ]);
  log(`  PostgreSQL ${pg.url} (pid ${pg.pid}), Redis ${redis.url} (pid ${redis.pid})`);

  const clientId = previous.get("OIDC_CLIENT_ID") || "commy-local";
  const clientSecret = previous.get("OIDC_CLIENT_SECRET") || randomBytes(24).toString("base64url");
  const oidc = await startOidcProvider({
    clientId,
    clientSecret,
    redirectUris: [`${appUrl}/api/auth/callback/oidc`],
    preferredPort: portOf(previous.get("OIDC_ISSUER")) ?? 4010,
    logFile: path.join(logDir, "oidc-provider.log"),
    detached: true,
  });
  track("oidc-provider", oidc);
  log(`  local OIDC provider ${oidc.url} (pid ${oidc.pid})`);

  const managed = {
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    NEXTAUTH_URL: appUrl,
    NEXTAUTH_SECRET: previous.get("NEXTAUTH_SECRET") || randomBytes(32).toString("base64url"),
    OIDC_ISSUER: oidc.url,
    OIDC_CLIENT_ID: clientId,
    OIDC_CLIENT_SECRET: clientSecret,
    OIDC_NAME: previous.get("OIDC_NAME") || "Commy Local",
  };
  writeEnvFile(envFile, managed, previous);
  log("  wrote .env.local");
  const env: NodeJS.ProcessEnv = { ...process.env, ...Object.fromEntries(previous), ...managed, NEXT_TELEMETRY_DISABLED: "1" };

  log("applying migrations");
  await migrateDatabase(pg.url);
  log("seeding the demo tenant");
  await run(process.execPath, ["--import", "tsx", "prisma/seed.ts"], { cwd: projectRoot, env });

  const { built } = await ensureNextBuild({
    env: { ...env, NODE_ENV: "production" },
    inherit: true,
    force: flags.rebuild,
    onStart: () => log("building the app (next build)"),
  });
  if (!built) log("the app is already built for these sources (use --rebuild to force)");

  log("starting the app");
  const app = await startAppServer({ port, env: { ...env, NODE_ENV: "production" }, logFile: path.join(logDir, "next.log"), detached: true });
  track("app", app);

  // ── WORKER HOOK ─────────────────────────────────────────────────────────────────────────────
  // When the worker daemon exists (worker/main.ts), run one worker next to the control plane,
  // joined to the demo tenant. Its node credential and shared files live in .data/worker; the
  // first run gets a one-time join token from the control plane's own service.
  let workerLine = "";
  const workerMain = path.join(projectRoot, "worker", "main.ts");
  if (existsSync(workerMain)) {
    const workerDir = path.join(dataDir, "worker");
    mkdirSync(workerDir, { recursive: true, mode: 0o700 });
    let socketPath = path.join(runDir, "worker.sock");
    if (Buffer.byteLength(socketPath) > 100) socketPath = path.join(os.tmpdir(), `commy-${createHash("sha256").update(projectRoot).digest("hex").slice(0, 12)}.sock`);
    const args = [
      "--import", "tsx", workerMain,
      "--control-plane-url", appUrl,
      "--state-dir", workerDir,
      "--socket", socketPath,
      "--http-port", String(await freePort()),
    ];
    try {
      if (!existsSync(path.join(workerDir, "node.json"))) {
        const token = (await run(process.execPath, ["--import", "tsx", "scripts/lib/dev-join-token.ts", appUrl, "demo"], { cwd: projectRoot, env })).trim();
        args.push("--join-token", token);
      }
      const workerLog = path.join(logDir, "worker.log");
      const fd = openSync(workerLog, "a");
      const child = spawn(...withParentDeathSignal(process.execPath, args, "SIGTERM"), { cwd: projectRoot, env, stdio: ["ignore", fd, fd], detached: true });
      closeSync(fd);
      const pid = child.pid!;
      // The worker stops gracefully on SIGTERM (drains its clients within its grace period).
      track("worker", { url: "", pid, stop: () => stopPid(pid, { child, timeoutMs: 20_000 }) });
      child.on("exit", (code, sig) => {
        if (!shuttingDown) console.error(`[commy] the worker exited (${code ?? sig}); see .data/logs/worker.log`);
      });
      workerLine = `\n  Worker      pid ${pid}, socket ${socketPath}, log .data/logs/worker.log`;
    } catch (err) {
      console.error(`[commy] could not start the worker: ${(err as Error).message}`);
    }
  }
  // ────────────────────────────────────────────────────────────────────────────────────────────

  console.log(`
${bold("Commy is up.")}

  Open        ${bold(appUrl)}
  Sign in     "${managed.OIDC_NAME}" → ${bold("demo@commy.local")} / ${bold("demo")}   (demo tenant "Demo", role owner)

  PostgreSQL  ${pg.url}
  Redis       ${redis.url}
  OIDC        ${oidc.url}${workerLine}
  Logs        .data/logs/   (app: .data/logs/next.log)

  Ctrl-C stops everything.
`);

  // The app going away means the system is down: stop the rest too.
  const watch = setInterval(() => {
    if (shuttingDown) return clearInterval(watch);
    for (const { name, service } of started) {
      if (name !== "worker" && !isAlive(service.pid)) {
        console.error(`[commy] ${name} (pid ${service.pid}) exited unexpectedly; see .data/logs/`);
        clearInterval(watch);
        void shutdown(1);
        return;
      }
    }
  }, 1_000);
}

main().catch(async (err: unknown) => {
  console.error(`[commy] error: ${(err as Error).message ?? err}`);
  await shutdown(1);
});
