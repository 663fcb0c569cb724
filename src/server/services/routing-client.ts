/**
 * The control plane's own Redis connection for the data API: one admin client and one routing
 * producer per process. The producer has its own node id (`cp-<random>`), so the control plane
 * is just another routing node: its writes travel as frames on the file's stream and the
 * workers apply them like any node's (docs/spec/redis-routing.md).
 *
 * Configured from REDIS_URL (+ REDIS_CLUSTER, REDIS_TLS_CA_FILE), read when first needed.
 * Unset → ROUTING_UNAVAILABLE (503); unreachable → the same code once the connection fails.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  connectClient,
  createRedisClient,
  HybridLogicalClock,
  RouteProducer,
  type RedisClient,
  type RedisTarget,
  type Transport as RoutingTransport,
  type TransportPreference as RoutingPreference,
} from "../../../routing";
import type { Transport, TransportPreference } from "~/server/contracts/worker";
import { AppError } from "~/server/errors";
import { logger } from "~/server/logger";

/**
 * The routing library keeps its own unions (it never imports the control plane); they must name
 * exactly the contract's values, or a decision the worker reports would fail validation.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const ROUTING_ENUMS_MATCH_CONTRACT: Same<RoutingTransport, Transport> & Same<RoutingPreference, TransportPreference> = true;

export interface RoutingHandle {
  redis: RedisClient;
  producer: RouteProducer;
  nodeId: string;
}

interface Holder {
  url: string | undefined;
  handle: Promise<RoutingHandle> | null;
}

const globalForRouting = globalThis as unknown as { commyRouting?: Holder };

function target(url: string): RedisTarget {
  const caFile = process.env.REDIS_TLS_CA_FILE?.trim();
  const tls = caFile ? { ca: readFileSync(caFile) } : undefined;
  const cluster = ["1", "true"].includes((process.env.REDIS_CLUSTER ?? "").trim());
  if (cluster) {
    const u = new URL(url);
    return {
      cluster: [{ host: u.hostname, port: Number(u.port || 6379) }],
      tls: u.protocol === "rediss:" ? (tls ?? true) : undefined,
      username: u.username ? decodeURIComponent(u.username) : undefined,
      password: u.password ? decodeURIComponent(u.password) : undefined,
      connectionName: "commy-control-plane",
    };
  }
  return { url, tls, connectionName: "commy-control-plane" };
}

export function routingUnavailable(detail?: string): AppError {
  return new AppError("ROUTING_UNAVAILABLE", detail ? `Routing through Redis is unavailable: ${detail}` : "Routing through Redis is not configured on this control plane (REDIS_URL)");
}

async function open(url: string): Promise<RoutingHandle> {
  const nodeId = `cp-${randomBytes(6).toString("hex")}`;
  const redis = createRedisClient(target(url), "admin");
  redis.on("error", () => {
    /* surfaced through command failures */
  });
  await connectClient(redis);
  const producer = new RouteProducer({
    redis: { client: redis },
    nodeId,
    clock: new HybridLogicalClock(nodeId),
    // The control plane does not hold writes for a Redis it cannot reach: callers get 503.
    defaultPolicy: { durable: false },
  });
  await producer.start();
  logger.info({ nodeId }, "routing: control plane connected to Redis");
  return { redis, producer, nodeId };
}

/** The process's routing connection (opened on first use). */
export async function routing(): Promise<RoutingHandle> {
  const url = process.env.REDIS_URL?.trim() || undefined;
  if (!url) throw routingUnavailable();
  const holder = (globalForRouting.commyRouting ??= { url, handle: null });
  if (holder.url !== url) {
    // Configuration changed (tests): drop the old connection.
    const old = holder.handle;
    holder.handle = null;
    holder.url = url;
    void old?.then((h) => closeHandle(h)).catch(() => undefined);
  }
  if (!holder.handle) {
    holder.handle = open(url).catch((e: unknown) => {
      holder.handle = null;
      throw routingUnavailable((e as Error).message);
    });
  }
  return holder.handle;
}

async function closeHandle(h: RoutingHandle): Promise<void> {
  await h.producer.close(1000).catch(() => undefined);
  h.redis.disconnect();
}

/** Closes the process's routing connection (tests, shutdown). */
export async function closeRouting(): Promise<void> {
  const holder = globalForRouting.commyRouting;
  if (!holder?.handle) return;
  const h = await holder.handle.catch(() => null);
  holder.handle = null;
  if (h) await closeHandle(h);
}
