/**
 * Test support: real redis-server processes on private 127.0.0.1 ports, in temp dirs, stopped
 * by PID (never by name). Standalone (optionally AOF, TLS, ACL-ready) and a 3-master Cluster.
 * To be replaced by scripts/lib/services.ts helpers once infra lands them.
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { canConnect, freePort, run, spawnService, stopPid, waitFor } from "../../scripts/lib/process";

export const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? "/usr/bin/redis-server";
export const REDIS_CLI = process.env.REDIS_CLI_BIN ?? "/usr/bin/redis-cli";

export interface TestTls {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: Buffer;
}

export interface StartRedisOptions {
  dir?: string;
  port?: number;
  aof?: boolean;
  /** Serve TLS only (port 0 for plain TCP) with these files. */
  tls?: TestTls;
  cluster?: boolean;
  extraArgs?: string[];
}

export class TestRedis {
  child: ChildProcess | null = null;
  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly opts: StartRedisOptions,
  ) {}

  get url(): string {
    return `${this.opts.tls ? "rediss" : "redis"}://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  get logFile(): string {
    return path.join(this.dir, "redis.log");
  }

  async start(): Promise<void> {
    const o = this.opts;
    const args = [
      "--bind", "127.0.0.1",
      "--dir", this.dir,
      "--save", "",
      "--appendonly", o.aof ? "yes" : "no",
      "--appendfsync", "always",
      "--protected-mode", "no",
      "--daemonize", "no",
      "--loglevel", "warning",
    ];
    if (o.tls) {
      args.push(
        "--port", "0", "--tls-port", String(this.port),
        "--tls-cert-file", o.tls.certFile, "--tls-key-file", o.tls.keyFile,
        "--tls-ca-cert-file", o.tls.caFile, "--tls-auth-clients", "no",
      );
      if (o.cluster) args.push("--tls-cluster", "yes");
    } else {
      args.push("--port", String(this.port));
    }
    if (o.cluster) {
      args.push("--cluster-enabled", "yes", "--cluster-config-file", path.join(this.dir, "nodes.conf"), "--cluster-node-timeout", "2000");
    }
    args.push(...(o.extraArgs ?? []));
    const child = spawnService(REDIS_SERVER, args, { logFile: this.logFile });
    this.child = child;
    await waitFor(`redis-server :${this.port}`, () => canConnect(this.port), { child, logFile: this.logFile, timeoutMs: 20_000 });
  }

  /** Polite stop (SIGTERM: Redis flushes AOF and exits). */
  async stop(): Promise<void> {
    if (this.child?.pid) await stopPid(this.child.pid, { child: this.child });
  }

  async kill(): Promise<void> {
    if (this.child?.pid) await stopPid(this.child.pid, { child: this.child, signal: "SIGKILL" });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async cli(...args: string[]): Promise<string> {
    const tlsArgs = this.opts.tls ? ["--tls", "--cacert", this.opts.tls.caFile] : [];
    return (await run(REDIS_CLI, ["-h", "127.0.0.1", "-p", String(this.port), ...tlsArgs, ...args])).trim();
  }
}

export async function startRedis(opts: StartRedisOptions = {}): Promise<TestRedis> {
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), "commy-redis-"));
  mkdirSync(dir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const r = new TestRedis(port, dir, opts);
    try {
      await r.start();
      return r;
    } catch (e) {
      if (opts.port || attempt >= 3) throw e;
    }
  }
}

export interface TestCluster {
  nodes: TestRedis[];
  seeds: { host: string; port: number }[];
  stop(): Promise<void>;
}

/** Three masters, no replicas, slots assigned with redis-cli --cluster create. */
export async function startRedisCluster(opts: { tls?: TestTls; masters?: number } = {}): Promise<TestCluster> {
  const n = opts.masters ?? 3;
  const root = mkdtempSync(path.join(tmpdir(), "commy-cluster-"));
  const nodes: TestRedis[] = [];
  for (let i = 0; i < n; i++) {
    nodes.push(await startRedis({ dir: path.join(root, `n${i}`), cluster: true, tls: opts.tls }));
  }
  const tlsArgs = opts.tls ? ["--tls", "--cacert", opts.tls.caFile] : [];
  await run(REDIS_CLI, [...tlsArgs, "--cluster", "create", ...nodes.map((x) => `127.0.0.1:${x.port}`), "--cluster-replicas", "0", "--cluster-yes"]);
  await waitFor("cluster state ok", async () => {
    const infos = await Promise.all(nodes.map((x) => x.cli("CLUSTER", "INFO").catch(() => "")));
    return infos.every((i) => i.includes("cluster_state:ok"));
  }, { timeoutMs: 30_000, intervalMs: 200 });
  return {
    nodes,
    seeds: nodes.map((x) => ({ host: "127.0.0.1", port: x.port })),
    async stop() {
      await Promise.all(nodes.map((x) => x.stop()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A throwaway CA and a server certificate for 127.0.0.1/localhost, made with openssl. */
export async function generateTestTls(dir = mkdtempSync(path.join(tmpdir(), "commy-tls-"))): Promise<TestTls> {
  const p = (f: string) => path.join(dir, f);
  await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"), "-out", p("ca.crt"), "-days", "2", "-subj", "/CN=commy-test-ca"]);
  await run("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=localhost"]);
  writeFileSync(p("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await run("openssl", ["x509", "-req", "-in", p("server.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"), "-CAcreateserial", "-out", p("server.crt"), "-days", "2", "-extfile", p("ext.cnf")]);
  const { readFileSync } = await import("node:fs");
  return { dir, caFile: p("ca.crt"), certFile: p("server.crt"), keyFile: p("server.key"), ca: readFileSync(p("ca.crt")) };
}
