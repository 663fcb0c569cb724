import { fork, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stopPid } from "../../scripts/lib/process";
import type { DeliveryPattern, FileRef, RedisTarget } from "../../routing";

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "route-node.ts");

export interface NodeConfig {
  redis: RedisTarget;
  nodeId: string;
  file: FileRef;
  pattern?: DeliveryPattern;
  logFile: string;
  consume?: boolean;
  produce?: boolean;
  stateFromLog?: boolean;
  startId?: string;
  claimIdleMs?: number;
  applyDelayMs?: number;
}

/** A routing node running in its own process (tests/routing/fixtures/route-node.ts). */
export class NodeProcess {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  stderr = "";

  constructor(readonly cfg: NodeConfig) {
    this.child = fork(FIXTURE, [], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, COMMY_ROUTE_NODE: JSON.stringify(cfg) },
      stdio: ["ignore", "inherit", "pipe", "ipc"],
    });
    this.child.stderr?.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.ready = new Promise((resolve, reject) => {
      this.child.on("message", (m: { ready?: boolean; id?: number; result?: unknown; error?: string }) => {
        if (m.ready) resolve();
        if (m.id !== undefined) {
          const p = this.pending.get(m.id);
          this.pending.delete(m.id);
          if (m.error !== undefined) p?.reject(new Error(m.error));
          else p?.resolve(m.result);
        }
      });
      this.child.on("exit", (code, sig) => {
        const err = new Error(`node ${cfg.nodeId} exited (${code ?? sig})\n${this.stderr}`);
        reject(err);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
    });
  }

  static async start(cfg: NodeConfig): Promise<NodeProcess> {
    const n = new NodeProcess(cfg);
    await n.ready;
    return n;
  }

  request<T = unknown>(msg: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...msg, id });
    });
  }

  publish(count: number, prefix: string, chunk?: number) {
    return this.request<number>({ cmd: "publish", count, prefix, chunk });
  }
  write(name: string, value: string) {
    return this.request<string>({ cmd: "write", name, value });
  }
  flush() {
    return this.request<boolean>({ cmd: "flush" });
  }
  vars() {
    return this.request<Record<string, { value: string; stamp: string }>>({ cmd: "vars" });
  }
  stats() {
    return this.request<{ producer?: Record<string, unknown>; consumer?: Record<string, unknown> }>({ cmd: "stats" });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    await this.request({ cmd: "close" }).catch(() => undefined);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (this.child.pid) await stopPid(this.child.pid, { child: this.child });
  }

  async kill(): Promise<void> {
    if (this.child.pid) await stopPid(this.child.pid, { child: this.child, signal: "SIGKILL" });
  }
}

export interface LogLine { o: string; e: string; s: number; k: string; n: string; p: string; id: string; h?: string }

export function readLog(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  // Only complete lines: a node may be appending the next one while we read.
  const lines = readFileSync(file, "utf8").split("\n");
  lines.pop(); // "" after the last newline, or a line still being written
  return lines.filter(Boolean).map((l) => JSON.parse(l) as LogLine);
}

/** Polls until `check` holds. Not a timed assertion: the timeout only bounds a hang. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let uniq = 0;
/** A file ref unique to this test run. */
export function uniqueFile(tenantId = "t1"): FileRef {
  return { tenantId, fileId: `f${process.pid}x${Date.now().toString(36)}x${uniq++}` };
}
