/**
 * Worker nodes as the API returns them, and the one definition of node health.
 *
 * Pure module (zod only): the UI recomputes health locally between refreshes with the same
 * function the server uses.
 */
import { z } from "zod";
import { ZPageQuery, ZTimestamp } from "./common";

export const NODE_HEALTHS = ["healthy", "degraded", "unresponsive", "disconnected"] as const;
export type NodeHealth = (typeof NODE_HEALTHS)[number];

export const NODE_HEALTH_HELP: Record<NodeHealth, string> = {
  healthy: "Heartbeats arrive on time (last one at most 2× the interval ago).",
  degraded: "Last heartbeat more than 2× the interval ago.",
  unresponsive: "Last heartbeat more than 4× the interval ago.",
  disconnected: "Last heartbeat more than 8× the interval ago, or never.",
};

/**
 * Health from heartbeat age (BRIEF.md): Healthy, Degraded > 2×, Unresponsive > 4×,
 * Disconnected > 8× the node's heartbeat interval. A node that never sent a heartbeat is
 * disconnected. Computed at read time rather than stored, so it is never stale and the
 * heartbeat path stays a single UPDATE.
 */
export function nodeHealth(lastHeartbeatAt: Date | string | null, heartbeatIntervalMs: number, now: number = Date.now()): NodeHealth {
  if (lastHeartbeatAt === null) return "disconnected";
  const age = now - new Date(lastHeartbeatAt).getTime();
  const interval = Math.max(1, heartbeatIntervalMs);
  if (age > 8 * interval) return "disconnected";
  if (age > 4 * interval) return "unresponsive";
  if (age > 2 * interval) return "degraded";
  return "healthy";
}

export const NODE_STATUSES = ["active", "draining", "revoked"] as const;

export const ZNode = z.object({
  id: z.string(),
  name: z.string(),
  hostname: z.string(),
  version: z.string().meta({ description: "Worker version the node reported." }),
  labels: z.record(z.string(), z.string()).meta({ description: "Labels given at join (e.g. zone, rack)." }),
  capabilities: z.record(z.string(), z.unknown()).meta({ description: "What the worker reported: shm size, IPC namespace, …" }),
  status: z.enum(NODE_STATUSES),
  health: z.enum(NODE_HEALTHS).meta({ description: "From heartbeat age: healthy ≤ 2×, degraded > 2×, unresponsive > 4×, disconnected > 8× the interval." }),
  heartbeatIntervalMs: z.number().int(),
  lastHeartbeatAt: ZTimestamp.nullable(),
  joinedAt: ZTimestamp,
});
export type TNode = z.output<typeof ZNode>;

export const ZNodeListQuery = ZPageQuery.extend({
  health: z.enum(NODE_HEALTHS).optional().meta({ description: "Only nodes in this health state." }),
});
export type TNodeListQuery = { cursor?: string | undefined; limit: number; health?: NodeHealth | undefined };
