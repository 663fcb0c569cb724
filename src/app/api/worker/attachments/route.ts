/** PUT /api/worker/attachments — the node's full set of live attachments (replaces the previous report). */
import { AttachmentsSyncRequestSchema } from "~/server/contracts/worker";
import { jsonResponse, nodeRoute, readJson } from "~/server/api/worker-http";
import { syncAttachments } from "~/server/services/node-join";

export const dynamic = "force-dynamic";

export const PUT = nodeRoute(async (req, node, meta) => {
  const { attachments } = await readJson(req, AttachmentsSyncRequestSchema);
  return jsonResponse(200, await syncAttachments(node, attachments, meta));
});
