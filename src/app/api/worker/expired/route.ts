/** POST /api/worker/expired — the node removed a file's mapping at its TTL (audited as `file.expired`). */
import { FileExpiredReportSchema } from "~/server/contracts/worker";
import { jsonResponse, nodeRoute, readJson } from "~/server/api/worker-http";
import { recordFileExpired } from "~/server/services/node-join";

export const dynamic = "force-dynamic";

export const POST = nodeRoute(async (req, node, meta) => {
  const report = await readJson(req, FileExpiredReportSchema);
  return jsonResponse(200, await recordFileExpired(node, report, meta));
});
