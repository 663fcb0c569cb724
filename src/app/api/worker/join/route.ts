/** POST /api/worker/join — exchange a one-time join token for a node credential (docs/spec/worker-api.md). */
import { JoinRequestSchema } from "~/server/contracts/worker";
import { jsonResponse, readJson, workerRoute } from "~/server/api/worker-http";
import { exchangeJoinToken } from "~/server/services/node-join";

export const dynamic = "force-dynamic";

export const POST = workerRoute(async (req, meta) => jsonResponse(201, await exchangeJoinToken(await readJson(req, JoinRequestSchema), meta)));
