/**
 * GET /api/worker/routing — the node's Redis credentials for cross-node routing (an ACL user of
 * its own, limited to its tenant's keys), or `redis: null` when routing is not configured.
 * 503 ROUTING_UNAVAILABLE when Redis cannot be reached to provision the user.
 */
import { jsonResponse, nodeRoute } from "~/server/api/worker-http";
import { getNodeRoutingConfig, RoutingUnavailableError } from "~/server/services/node-routing";

export const dynamic = "force-dynamic";

export const GET = nodeRoute(async (_req, node) => {
  try {
    return jsonResponse(200, await getNodeRoutingConfig(node));
  } catch (e) {
    if (e instanceof RoutingUnavailableError) return jsonResponse(503, { error: { code: e.code, message: e.message } }, { "retry-after": "2" });
    throw e;
  }
});
