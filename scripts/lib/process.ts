/**
 * Process plumbing shared by the service helpers, `scripts/up` and the test setups:
 * free ports on 127.0.0.1, waiting for readiness, and stopping processes by PID.
 *
 * Nothing here ever signals a process by name (no pkill/killall): every process we start is
 * tracked by the PID we got when we started it, and only that PID is signalled.
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { createServer, connect } from "node:net";
import { openSync, closeSync, readFileSync, existsSync } from "node:fs";

/** A process we started (or adopted from a pidfile) and can stop. */
export interface RunningService {
  /** Connection URL (postgresql://…, redis://…, http://…). */
  url: string;
  pid: number;
  /** Stops the process by PID: polite signal, then SIGKILL after a timeout. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Asks the kernel for a free TCP port on 127.0.0.1. Another process could take it before the
 * caller binds it; callers that can detect a bind failure retry with a new port.
 * When `preferred` is given and free, it is returned instead.
 */
export async function freePort(preferred?: number): Promise<number> {
  if (preferred && (await isPortFree(preferred))) return preferred;
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** True when nothing listens on 127.0.0.1:port and we could bind it. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen({ host: "127.0.0.1", port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Resolves when a TCP connection to 127.0.0.1:port succeeds. */
export function canConnect(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });
}

/** True while a process with this PID exists (and is not a zombie we own). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  // A zombie still answers kill(0): look at its state so a dead, unreaped child reads as gone.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** The command line of a PID (empty when it is gone); used to check a pidfile still points at our process. */
export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stops one process by PID: sends `signal` (SIGTERM unless told otherwise), waits up to
 * `timeoutMs` for it to exit, then sends SIGKILL. With `child`, exit is observed through the
 * ChildProcess (no polling, and the zombie is reaped).
 */
export async function stopPid(
  pid: number,
  opts: { signal?: NodeJS.Signals; timeoutMs?: number; child?: ChildProcess } = {},
): Promise<void> {
  const { signal = "SIGTERM", timeoutMs = 10_000, child } = opts;
  if (child && (child.exitCode !== null || child.signalCode !== null)) return;
  if (!child && !isAlive(pid)) return;
  const exited = child
    ? new Promise<void>((resolve) => child.once("exit", () => resolve()))
    : (async () => {
        while (isAlive(pid)) await sleep(50);
      })();
  try {
    process.kill(pid, signal);
  } catch {
    return; // already gone
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone in the meantime */
    }
    await Promise.race([exited, sleep(5_000)]);
  }
}

/** Reads the first line of a pidfile as a PID, or undefined. */
export function readPidFile(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").split("\n")[0]?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Polls `check` until it returns true. Readiness polling, not a timed assertion: the deadline
 * only turns "never became ready" into an error that includes the service's log tail.
 * Fails early when `child` exits.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  opts: { timeoutMs?: number; intervalMs?: number; child?: ChildProcess; logFile?: string } = {},
): Promise<void> {
  const { timeoutMs = 60_000, intervalMs = 100, child, logFile } = opts;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${what} exited (code ${child.exitCode ?? child.signalCode}) before it was ready${logTail(logFile)}`);
    }
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} was not ready after ${timeoutMs / 1000} s${logTail(logFile)}`);
    await sleep(intervalMs);
  }
}

/** The last lines of a log file, formatted for an error message. */
export function logTail(file: string | undefined, lines = 25): string {
  if (!file || !existsSync(file)) return "";
  const text = readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n    ");
  return `\n  last lines of ${file}:\n    ${text}`;
}

/**
 * Spawns a long-running service with stdout+stderr appended to `logFile`.
 * `detached` puts it in its own process group, so a terminal Ctrl-C reaches only the
 * orchestrator, which then stops services in order.
 */
export function spawnService(
  command: string,
  args: string[],
  opts: {
    logFile: string;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    detached?: boolean;
    /** Signal the service gets when this process dies (default SIGTERM; null: none). */
    parentDeathSignal?: NodeJS.Signals | null;
  },
): ChildProcess {
  [command, args] = withParentDeathSignal(command, args, opts.parentDeathSignal === undefined ? "SIGTERM" : opts.parentDeathSignal);
  const fd = openSync(opts.logFile, "a");
  const spawnOpts: SpawnOptions = {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ["ignore", fd, fd],
    detached: opts.detached ?? false,
  };
  try {
    const child = spawn(command, args, spawnOpts);
    child.on("error", () => {
      /* surfaced through exitCode in waitFor */
    });
    return child;
  } finally {
    closeSync(fd);
  }
}

/** Runs a command to completion; rejects with its output when it fails. */
export function run(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; quiet?: boolean; inherit?: boolean } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: opts.inherit ? "inherit" : ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("exit", (code, sig) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(" ")} failed (${code ?? sig})\n${out.trimEnd()}`));
    });
  });
}

const SETPRIV = "/usr/bin/setpriv";

/**
 * Makes the kernel send `signal` to the service when the process that started it dies, even by
 * SIGKILL (prctl PR_SET_PDEATHSIG, through util-linux `setpriv --pdeathsig`, which then execs the
 * service in place: the PID stays the service's own). Without this, a test runner killed by a
 * timeout would leave its PostgreSQL and Redis running with nobody to stop them.
 */
export function withParentDeathSignal(command: string, args: string[], signal: NodeJS.Signals | null): [string, string[]] {
  if (!signal || !existsSync(SETPRIV)) return [command, args];
  if (command === SETPRIV) {
    const dashDash = args.indexOf("--");
    const at = dashDash === -1 ? 0 : dashDash;
    return [command, [...args.slice(0, at), "--pdeathsig", signal, ...args.slice(at)]];
  }
  return [SETPRIV, ["--pdeathsig", signal, "--", command, ...args]];
}
