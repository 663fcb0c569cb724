/**
 * Worker configuration: one zod schema, three sources, one fully defaulted result.
 *
 * Precedence (later wins): config file (JSON, `--config` or COMMY_WORKER_CONFIG) < environment
 * (COMMY_WORKER_*) < command-line flags. Everything the daemon reads is in `WorkerConfig`; no
 * other module looks at process.env or argv.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/** True for hosts where plain HTTP is acceptable: traffic never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

export const WorkerConfigSchema = z
  .object({
    /** Base URL of the control plane, e.g. https://commy.example.com. */
    controlPlaneUrl: z.string().url(),
    /** PEM file with extra CA certificates trusted for the control plane (private PKI). */
    caFile: z.string().min(1).optional(),
    /** One-time join token; only needed until the node credential is stored. */
    joinToken: z.string().min(10).optional(),
    /** Holds the node credential (0600) and the shared files (per-tenant 0700 directories). */
    stateDir: z.string().min(1).default("/var/lib/commy-worker"),
    /** Unix socket for client processes. */
    socketPath: z.string().min(1).default("/run/commy/worker.sock"),
    /** Node name shown in the control plane; defaults to the hostname. */
    nodeName: z.string().min(1).max(100).optional(),
    labels: z.record(z.string(), z.string()).default({}),
    /** Loopback HTTP listener for /metrics and /healthz. Port 0 picks a free port. */
    httpHost: z.string().default("127.0.0.1"),
    httpPort: z.number().int().min(0).max(65535).default(9464),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
    /** SIGTERM/close(): how long clients get to finish before everything is torn down. */
    shutdownGraceMs: z.number().int().min(0).max(300_000).default(10_000),
    /** Timeout of one control-plane HTTP request. */
    requestTimeoutMs: z.number().int().min(100).max(60_000).default(5000),
    /** Largest socket frame body accepted from clients. */
    maxFrameBody: z.number().int().min(1024).max(1 << 20).default(1 << 20),
    /**
     * Host identity overrides (boot id, IPC namespace) used for "same host" decisions. Only for
     * running several workers on one machine as if they were separate hosts (tests, demos).
     */
    bootId: z.string().min(1).max(64).optional(),
    ipcNamespace: z.string().min(1).max(64).optional(),
    /** Cross-node routing through Redis when the control plane provides credentials (default on). */
    routing: z.enum(["on", "off"]).default("on"),
  })
  .superRefine((c, ctx) => {
    const url = new URL(c.controlPlaneUrl);
    // Node credentials and API keys travel on this connection: plain HTTP only when it never
    // leaves the host.
    if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname)))
      ctx.addIssue({ code: "custom", path: ["controlPlaneUrl"], message: "must be https:// (plain http:// is allowed only to localhost)" });
    if (!isLoopbackHost(c.httpHost))
      ctx.addIssue({ code: "custom", path: ["httpHost"], message: "the metrics/health listener binds to loopback only" });
  });
export type WorkerConfig = z.infer<typeof WorkerConfigSchema>;

/** Thrown for any invalid configuration; `issues` lists every problem at once. */
export class WorkerConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid worker configuration:\n  ${issues.join("\n  ")}`);
    this.name = "WorkerConfigError";
  }
}

const FLAG_KEYS: Record<string, keyof WorkerConfig> = {
  "control-plane-url": "controlPlaneUrl",
  "ca-file": "caFile",
  "join-token": "joinToken",
  "state-dir": "stateDir",
  socket: "socketPath",
  "node-name": "nodeName",
  "http-host": "httpHost",
  "http-port": "httpPort",
  "log-level": "logLevel",
  "shutdown-grace-ms": "shutdownGraceMs",
  "request-timeout-ms": "requestTimeoutMs",
  "max-frame-body": "maxFrameBody",
  "boot-id": "bootId",
  "ipc-namespace": "ipcNamespace",
  routing: "routing",
};
const NUMERIC = new Set<keyof WorkerConfig>(["httpPort", "shutdownGraceMs", "requestTimeoutMs", "maxFrameBody"]);

function envName(key: string): string {
  return "COMMY_WORKER_" + key.replace(/[A-Z]/g, (c) => "_" + c).toUpperCase();
}

function coerce(key: keyof WorkerConfig, value: string): unknown {
  return NUMERIC.has(key) && /^\d+$/.test(value) ? Number(value) : value;
}

/** Parses `--label k=v` pairs and `COMMY_WORKER_LABELS=k=v,k2=v2`. */
function parseLabels(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new WorkerConfigError([`label "${item}" must be key=value`]);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/**
 * Builds the configuration from argv flags (`--name value` or `--name=value`), the environment
 * and an optional JSON file. Unknown flags are errors: a typo must not silently fall back to a default.
 */
export function loadConfig(argv: string[], env: Readonly<Record<string, string | undefined>> = process.env): WorkerConfig {
  const flags: Record<string, unknown> = {};
  const labels: string[] = [];
  let configFile = env.COMMY_WORKER_CONFIG;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new WorkerConfigError([`unexpected argument "${arg}"`]);
    let [name, value] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new WorkerConfigError([`flag --${name} needs a value`]);
    }
    if (name === "config") configFile = value;
    else if (name === "label") labels.push(value);
    else if (FLAG_KEYS[name]) flags[FLAG_KEYS[name]] = coerce(FLAG_KEYS[name], value);
    else throw new WorkerConfigError([`unknown flag --${name}`]);
  }

  let fromFile: Record<string, unknown> = {};
  if (configFile) {
    try {
      fromFile = JSON.parse(readFileSync(configFile, "utf8")) as Record<string, unknown>;
    } catch (e) {
      throw new WorkerConfigError([`config file ${configFile}: ${(e as Error).message}`]);
    }
  }
  const fromEnv: Record<string, unknown> = {};
  for (const key of Object.values(FLAG_KEYS)) {
    const v = env[envName(key)];
    if (v !== undefined && v !== "") fromEnv[key] = coerce(key, v);
  }
  const merged: Record<string, unknown> = { ...fromFile, ...fromEnv, ...flags };
  const envLabels = env.COMMY_WORKER_LABELS ? parseLabels(env.COMMY_WORKER_LABELS.split(",").filter(Boolean)) : {};
  merged.labels = { ...((fromFile.labels as Record<string, string>) ?? {}), ...envLabels, ...parseLabels(labels) };

  const parsed = WorkerConfigSchema.safeParse(merged);
  if (!parsed.success) throw new WorkerConfigError(parsed.error.issues.map((i) => `${i.path.join(".") || "(config)"}: ${i.message}`));
  return parsed.data;
}
