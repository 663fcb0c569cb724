/** PUT /api/worker/routes — the node's full set of per-file transport decisions and stats (replaces the previous report). */
import { RoutesSyncRequestSchema } from "~/server/contracts/worker";
import { jsonResponse, nodeRoute, readJson } from "~/server/api/worker-http";
import { syncRoutes } from "~/server/services/file-routes";

export const dynamic = "force-dynamic";

export const PUT = nodeRoute(async (req, node, meta) => {
  const { routes } = await readJson(req, RoutesSyncRequestSchema);
  return jsonResponse(200, await syncRoutes(node, routes, meta));
});
