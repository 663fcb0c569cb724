/**
 * Test harness for the worker suite.
 *
 * Control plane without a Next build: the real route handlers of `src/app/api/worker/**` are
 * imported and served by a small node:http server on 127.0.0.1 that adapts IncomingMessage to a
 * WHATWG Request and the returned Response back (`startControlPlane`). The handlers, services
 * and database are exactly those `next start` runs; only Next's router is replaced. (The e2e
 * and benchmark paths use the real `next start`.)
 *
 * Workers and client processes are real child processes (`node --import tsx ...`), stopped by
 * the PID we started them with.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { db } from "~/server/db";
import { generateApiKey } from "~/server/services/api-key-secret";
import type { TenantContext } from "~/server/actor";
import { createJoinToken } from "~/server/services/node-join";
import * as joinRoute from "~/app/api/worker/join/route";
import * as heartbeatRoute from "~/app/api/worker/heartbeat/route";
import * as catalogueRoute from "~/app/api/worker/catalogue/route";
import * as settingsRoute from "~/app/api/worker/settings/route";
import * as verifyRoute from "~/app/api/worker/keys/verify/route";
import * as attachmentsRoute from "~/app/api/worker/attachments/route";
import * as routingRoute from "~/app/api/worker/routing/route";
import * as expiredRoute from "~/app/api/worker/expired/route";
import type { Prisma } from "~/generated/prisma";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type RouteModule = Partial<Record<"GET" | "POST" | "PUT", (req: Request) => Promise<Response>>>;
const ROUTES: Record<string, RouteModule> = {
  "/api/worker/join": joinRoute,
  "/api/worker/heartbeat": heartbeatRoute,
  "/api/worker/catalogue": catalogueRoute,
  "/api/worker/settings": settingsRoute,
  "/api/worker/keys/verify": verifyRoute,
  "/api/worker/attachments": attachmentsRoute,
  "/api/worker/expired": expiredRoute,
};

export interface ControlPlane {
  url: string;
  /** Requests served, by path (to assert on polling behaviour). */
  hits: Map<string, number>;
  /** When set, every request fails with a connection reset (control plane "down"). */
  down: boolean;
  /** Paths answered 503 for now (one endpoint failing while the others work). */
  unavailable: Set<string>;
  close(): Promise<void>;
}

/**
 * `routing: true` also serves GET /api/worker/routing (Redis credentials from REDIS_URL), which
 * turns on the workers' cross-node bridge; without it the endpoint is 404 and workers serve
 * co-located clients only (what the worker suite tests). PUT /api/worker/routes stays 404 here
 * unless `extraRoutes` supplies it: the worker must tolerate that.
 */
export async function startControlPlane(opts: { routing?: boolean; extraRoutes?: Record<string, RouteModule> } = {}): Promise<ControlPlane> {
  const routes: Record<string, RouteModule> = { ...ROUTES, ...(opts.routing ? { "/api/worker/routing": routingRoute } : {}), ...(opts.extraRoutes ?? {}) };
  const hits = new Map<string, number>();
  const cp: ControlPlane = { url: "", hits, down: false, unavailable: new Set(), close: async () => undefined };
  const server = http.createServer((req, res) => {
    void (async () => {
      if (cp.down) return req.socket.destroy();
      const url = new URL(req.url ?? "/", cp.url);
      hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
      if (cp.unavailable.has(url.pathname)) {
        res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "UNAVAILABLE", message: "unavailable (test)" } }));
        return;
      }
      const handler = routes[url.pathname]?.[req.method as "GET" | "POST" | "PUT"];
      if (!handler) {
        res.writeHead(404).end();
        return;
      }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      const response = await handler(new Request(url, { method: req.method, headers, body: req.method === "GET" ? undefined : body }));
      const out: Record<string, string> = {};
      response.headers.forEach((v, k) => (out[k] = v));
      res.writeHead(response.status, out);
      res.end(Buffer.from(await response.arrayBuffer()));
    })().catch((e: unknown) => {
      res.writeHead(500).end(String(e));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cp.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cp.close = () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())));
  return cp;
}

// ---------------------------------------------------------------------------------------------
// Data fixtures (direct rows: this suite tests the worker, not the tenant/key services)
// ---------------------------------------------------------------------------------------------

export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString("hex")}`;
}

export interface Tenant {
  tenantId: string;
  ctx: TenantContext;
}

export async function createTenant(): Promise<Tenant> {
  const slug = unique("wt");
  const tenant = await db.tenant.create({ data: { name: slug, slug } });
  const user = await db.user.create({ data: { email: `${slug}@example.test`, name: "owner" } });
  await db.membership.create({ data: { tenantId: tenant.id, userId: user.id, role: "OWNER" } });
  return {
    tenantId: tenant.id,
    ctx: { actor: { type: "USER", userId: user.id, label: user.email!, isPlatformAdmin: false }, tenantId: tenant.id, role: "OWNER", meta: { requestId: unique("req") } },
  };
}

export async function createKey(tenantId: string, scopes: string[], filePatterns: string[] = []): Promise<{ raw: string; id: string }> {
  const k = generateApiKey();
  const row = await db.apiKey.create({ data: { tenantId, name: unique("key"), prefix: k.prefix, hash: k.hash, scopes, filePatterns } });
  return { raw: k.raw, id: row.id };
}

export type FileSpec = Partial<Omit<Prisma.SharedFileUncheckedCreateInput, "tenantId">> & { name: string; kind: "VARIABLES" | "STREAM" };

export async function createSharedFile(tenantId: string, spec: FileSpec): Promise<{ id: string; name: string }> {
  const layout =
    spec.layout ??
    (spec.kind === "VARIABLES" ? { slots: [{ name: "a", maxSize: 64 }, { name: "b", maxSize: 256 }] } : { messageMaxSize: 64, capacity: 1024, overflow: "overwrite", maxConsumers: 16 });
  return db.sharedFile.create({
    data: {
      pattern: spec.kind === "VARIABLES" ? "BLACKBOARD" : "PUBLISH_SUBSCRIBE",
      topology: "MANY_TO_MANY",
      directionality: "PRODUCER_TO_CONSUMER",
      serialization: "JSON",
      maxSizeBytes: 16 << 20,
      creationPolicy: "CREATE_IF_ABSENT",
      existencePolicy: "MAY_EXIST",
      autoCleanup: true,
      persistAfterDisconnect: false,
      requiredPermissions: [],
      ...spec,
      layout,
      tenantId,
    },
    select: { id: true, name: true },
  });
}

/** Tenant worker settings (version 1) so workers in tests heartbeat and poll fast. */
export async function fastSettings(t: Tenant): Promise<void> {
  const { updateWorkerSettings } = await import("~/server/services/node-join");
  await updateWorkerSettings(t.ctx, { heartbeatIntervalMs: 1000, cataloguePollMs: 500, apiKeyCacheMs: 500 });
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

export interface WorkerProcess {
  child: ChildProcess;
  stateDir: string;
  socketPath: string;
  httpPort: number;
  nodeId: string;
  /** Every stdout/stderr line so far (JSON log lines). */
  lines: string[];
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function tempDir(prefix = "commy-worker-test-"): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Starts `worker/main.ts` and resolves when it prints its ready line. */
export async function startWorker(opts: { controlPlaneUrl: string; joinToken?: string; stateDir?: string; extraArgs?: string[] }): Promise<WorkerProcess> {
  const stateDir = opts.stateDir ?? tempDir();
  const socketPath = path.join(stateDir, "worker.sock");
  const args = ["--import", "tsx", path.join(ROOT, "worker/main.ts"), "--control-plane-url", opts.controlPlaneUrl, "--state-dir", stateDir, "--socket", socketPath, "--http-port", "0", "--shutdown-grace-ms", "1500", "--log-level", "debug"];
  if (opts.joinToken) args.push("--join-token", opts.joinToken);
  args.push(...(opts.extraArgs ?? []));
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env } });
  const lines: string[] = [];
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const ready = new Promise<{ httpPort: number; nodeId: string }>((resolve, reject) => {
    let buf = "";
    const onData = (c: Buffer) => {
      buf += c.toString();
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        if (line.startsWith('{"ready":true')) resolve(JSON.parse(line) as { httpPort: number; nodeId: string });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (c: Buffer) => lines.push(...c.toString().split("\n").filter(Boolean)));
    void exited.then((code) => reject(new Error(`worker exited with ${code} before ready:\n${lines.slice(-20).join("\n")}`)));
    setTimeout(() => reject(new Error(`worker not ready in 30 s:\n${lines.slice(-20).join("\n")}`)), 30_000).unref();
  });
  const r = await ready;
  return {
    child,
    stateDir,
    socketPath,
    httpPort: r.httpPort,
    nodeId: r.nodeId,
    lines,
    exited,
    stop: async (signal: NodeJS.Signals = "SIGTERM") => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** A joined, running worker of `tenant` with fast settings. */
export async function joinedWorker(cp: ControlPlane, tenant: Tenant, extraArgs: string[] = []): Promise<WorkerProcess> {
  const token = await createJoinToken(tenant.ctx, { controlPlaneUrl: cp.url });
  return startWorker({ controlPlaneUrl: cp.url, joinToken: token.token, extraArgs });
}

export interface ClientProcess {
  child: ChildProcess;
  /** JSON lines the script printed. */
  messages: unknown[];
  waitFor(pred: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** Runs tests/worker/fixtures/<script>.ts with JSON args; it prints JSON lines. */
export function runClient(script: string, args: Record<string, unknown>): ClientProcess {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "tests/worker/fixtures", `${script}.ts`), JSON.stringify(args)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const messages: Record<string, unknown>[] = [];
  const waiters: { pred: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
  let buf = "";
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdout!.on("data", (c: Buffer) => {
    buf += c.toString();
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        const m = JSON.parse(line) as Record<string, unknown>;
        messages.push(m);
        for (const w of [...waiters]) if (w.pred(m)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(m));
      } catch {
        /* not ours */
      }
    }
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    child,
    messages,
    exited,
    waitFor: (pred, timeoutMs = 45_000) => {
      const found = messages.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiters.push({ pred, resolve });
        setTimeout(() => reject(new Error(`client ${script}: no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages).slice(0, 2000)}\n${stderr.slice(-2000)}`)), timeoutMs).unref();
      });
    },
  };
}

/** Polls `fn` until it returns a truthy value or the timeout passes. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 10_000, what = "condition"): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
