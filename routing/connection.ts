/**
 * Redis connections for routing: standalone or Cluster, plain or TLS (`rediss://`, custom CA).
 *
 * The library opens its own connections so it controls the options that matter for the data
 * path: no offline queue (a write while Redis is down fails fast and stays in the producer's
 * bounded backlog instead of piling up invisibly inside ioredis), bounded reconnect backoff,
 * and a separate connection for each blocking reader so close() can interrupt it.
 */
import { Cluster, Command, Redis, type ClusterOptions, type RedisOptions } from "ioredis";
import type { ConnectionOptions as TlsConnectionOptions } from "node:tls";
import { RoutingError } from "./errors";

export type RedisClient = Redis | Cluster;

export interface RedisTlsOptions {
  /** PEM CA bundle that signed the server certificate (a private CA). */
  ca?: string | Buffer;
  /** Client certificate and key, when the server requires client auth (`tls-auth-clients yes`). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Server name to verify; defaults to the host. */
  servername?: string;
  /** Never set false outside tests. */
  rejectUnauthorized?: boolean;
}

export interface RedisTarget {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://…` (TLS). Ignored when `cluster` is set. */
  url?: string;
  /** Seed nodes of a Redis Cluster. */
  cluster?: { host: string; port: number }[];
  /** Use TLS for cluster nodes (or force it for a `redis://` url). */
  tls?: RedisTlsOptions | true;
  username?: string;
  password?: string;
  /** Shown in CLIENT LIST (a suffix names the role: producer, reader, …). */
  connectionName?: string;
}

function tlsOptions(tls: RedisTlsOptions | true | undefined, host?: string): TlsConnectionOptions | undefined {
  if (!tls) return undefined;
  if (tls === true) return host ? { servername: isIp(host) ? undefined : host } : {};
  return {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    servername: tls.servername ?? (host && !isIp(host) ? host : undefined),
    rejectUnauthorized: tls.rejectUnauthorized ?? true,
  };
}

function isIp(h: string): boolean {
  return /^[0-9.]+$/.test(h) || h.includes(":");
}

export type ConnectionRole = "producer" | "reader" | "commands" | "admin";

/**
 * Opens a connection for one role. Callers own it and must `disconnect()`/`quit()` it.
 * `lazyConnect` is used so that `waitReady` can surface the first connection error.
 */
export function createRedisClient(target: RedisTarget, role: ConnectionRole): RedisClient {
  const common: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Reconnect forever, backing off to 1 s: a worker outlives Redis outages.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
    // No auto-pipelining: it defers every command to setImmediate (latency) and the producer
    // batches records into frames itself; ioredis 6.0.0 also breaks callBuffer() under it
    // ("commandName.toLowerCase is not a function").
    enableAutoPipelining: false,
    connectionName: target.connectionName ? `${target.connectionName}:${role}` : `commy-routing:${role}`,
    username: target.username,
    password: target.password,
  };
  if (target.cluster?.length) {
    const opts: ClusterOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      enableAutoPipelining: common.enableAutoPipelining,
      clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 4), 1000),
      redisOptions: { ...common, lazyConnect: false, tls: tlsOptions(target.tls, target.cluster[0]?.host) },
      // Keep the addresses the cluster announces (127.0.0.1 in tests) as they are.
      dnsLookup: (address, callback) => callback(null, address),
      slotsRefreshTimeout: 2000,
    };
    return new Cluster(target.cluster, opts);
  }
  if (!target.url) throw new RoutingError("ROUTE_INVALID_CONFIG", "RedisTarget needs a url or cluster nodes");
  const u = new URL(target.url);
  const secure = u.protocol === "rediss:" || !!target.tls;
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new RoutingError("ROUTE_INVALID_CONFIG", `unsupported Redis url scheme ${u.protocol}`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, "");
  return new Redis({
    ...common,
    host,
    port: u.port ? Number(u.port) : 6379,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    username: target.username ?? (u.username ? decodeURIComponent(u.username) : undefined),
    password: target.password ?? (u.password ? decodeURIComponent(u.password) : undefined),
    tls: secure ? tlsOptions(target.tls ?? true, host) : undefined,
  });
}

/** Connects a lazily created client; rejects with the first error. */
export async function connectClient(client: RedisClient): Promise<void> {
  if (client.status === "ready") return;
  if (client.status === "wait") {
    // connect() rejects with a bare "Connection is closed." on TLS and auth failures; the
    // cause arrives as an "error" event first: report that one.
    let first: Error | undefined;
    const onError = (e: Error) => (first ??= e);
    client.on("error", onError);
    try {
      // ioredis 6.0.0's Cluster.connect() sometimes never settles although the client reached
      // "ready" (seen with 3 local masters): also resolve on the ready event.
      const connecting = client.connect();
      connecting.catch(() => undefined); // a late rejection after "ready" must not go unhandled
      await Promise.race([
        connecting,
        new Promise<void>((resolve) => client.once("ready", () => resolve())),
      ]);
    } catch (e) {
      throw first ?? e;
    } finally {
      client.off("error", onError);
    }
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const onReady = () => {
      client.off("error", onError);
      resolve();
    };
    const onError = (e: Error) => {
      client.off("ready", onReady);
      reject(e);
    };
    client.once("ready", onReady);
    client.once("error", onError);
  });
}

/** True for errors that mean "Redis is not reachable right now" (vs a command error). */
export function isConnectionError(err: unknown): boolean {
  const msg = String((err as Error)?.message ?? err);
  return /Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|enableOfflineQueue|Stream isn't writeable|max retries per request|connect|CLUSTERDOWN|Failed to refresh slots|None of startup nodes/i.test(msg);
}

/**
 * A command whose RESP bytes the caller encoded: ioredis' own Command (queueing, reply parsing,
 * reconnection, Cluster slot routing by `args`, which stay the real arguments) with toWritable()
 * returning those bytes instead of converting each argument. ioredis turns a command with a
 * Buffer argument into 3 pieces per argument plus one native call per piece to measure and copy
 * it; on the one-message-per-wakeup path that was ~40% of the producer's time from send() to
 * the socket (measured: 39 µs → 21 µs p50 for one XADD).
 * Replies come back as Buffers.
 */
export class PreEncodedCommand extends Command {
  constructor(
    name: string,
    args: (string | Buffer)[],
    private readonly wire: Buffer,
  ) {
    super(name, args);
  }

  override toWritable(): Buffer {
    return this.wire;
  }
}

/** True when `client` writes keys unchanged (no keyPrefix), so pre-encoded commands name the same keys. */
export function canPreEncode(client: RedisClient): boolean {
  const o = client.options as { keyPrefix?: string; redisOptions?: { keyPrefix?: string } };
  return !o.keyPrefix && !o.redisOptions?.keyPrefix;
}

const CRLF = "\r\n";

/**
 * RESP of a command (`*<n>` then `$<len>` and the bytes of each part), byte for byte what ioredis
 * writes for the same parts. With `openLast`, the count includes one more argument that
 * withLastArgument() appends.
 */
export function encodeCommand(parts: readonly (string | Buffer)[], openLast = false): Buffer {
  const chunks: Buffer[] = [Buffer.from(`*${parts.length + (openLast ? 1 : 0)}${CRLF}`, "latin1")];
  for (const part of parts) {
    const b = typeof part === "string" ? Buffer.from(part, "utf8") : part;
    chunks.push(Buffer.from(`$${b.length}${CRLF}`, "latin1"), b, Buffer.from(CRLF, "latin1"));
  }
  return Buffer.concat(chunks);
}

/** `head` (from encodeCommand(parts, true)) followed by one more argument, in one new Buffer. */
export function withLastArgument(head: Buffer, arg: Uint8Array): Buffer {
  const h = head.length;
  const n = arg.length;
  const len = String(n);
  const b = Buffer.allocUnsafe(h + 1 + len.length + 2 + n + 2);
  let p = h;
  // Small copies as loops: cheaper than a native call per copy when the code runs once per wakeup.
  if (h > 256) head.copy(b, 0);
  else for (let i = 0; i < h; i++) b[i] = head[i]!;
  b[p++] = 0x24; // $
  for (let i = 0; i < len.length; i++) b[p++] = len.charCodeAt(i);
  b[p++] = 13;
  b[p++] = 10;
  if (n > 256) b.set(arg, p);
  else for (let i = 0; i < n; i++) b[p + i] = arg[i]!;
  p += n;
  b[p++] = 13;
  b[p] = 10;
  return b;
}
