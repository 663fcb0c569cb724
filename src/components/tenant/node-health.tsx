import { Badge, type BadgeTone } from "../ui/layout";
import { NODE_HEALTH_HELP, type NodeHealth, nodeHealth as contractNodeHealth } from "~/server/contracts/node";

export type DisplayHealth = NodeHealth | "revoked";

/**
 * Health of a node as shown now: the contract's one definition (heartbeat age vs interval),
 * recomputed in the browser so the badge ages between refreshes. Revoked nodes say so.
 */
export function nodeHealth(
  n: { lastHeartbeatAt: Date | string | null; heartbeatIntervalMs: number; status?: string },
  now = Date.now(),
): DisplayHealth {
  if (n.status?.toLowerCase() === "revoked") return "revoked";
  return contractNodeHealth(n.lastHeartbeatAt, n.heartbeatIntervalMs, now);
}

const TONE: Record<DisplayHealth, BadgeTone> = {
  healthy: "green",
  degraded: "yellow",
  unresponsive: "orange",
  disconnected: "red",
  revoked: "gray",
};

export function NodeHealthBadge({ health }: { health: DisplayHealth }) {
  const label = health.charAt(0).toUpperCase() + health.slice(1);
  const help = health === "revoked" ? "The node's credential was revoked." : NODE_HEALTH_HELP[health];
  return (
    <span title={help}>
      <Badge tone={TONE[health]}>{label}</Badge>
      <span className="sr-only">: {help}</span>
    </span>
  );
}
