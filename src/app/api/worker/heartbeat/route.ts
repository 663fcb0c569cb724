/** POST /api/worker/heartbeat — liveness, node status and the current settings version. */
import { HeartbeatRequestSchema } from "~/server/contracts/worker";
import { jsonResponse, nodeRoute, readJson } from "~/server/api/worker-http";
import { recordHeartbeat } from "~/server/services/node-join";

export const dynamic = "force-dynamic";

export const POST = nodeRoute(async (req, node) => jsonResponse(200, await recordHeartbeat(node, await readJson(req, HeartbeatRequestSchema))));
