/** POST /api/worker/keys/verify — is this client API key valid for the node's tenant, and what may it do. */
import { VerifyKeyRequestSchema } from "~/server/contracts/worker";
import { jsonResponse, nodeRoute, readJson } from "~/server/api/worker-http";
import { verifyApiKeyForNode } from "~/server/services/node-join";

export const dynamic = "force-dynamic";

export const POST = nodeRoute(async (req, node) => {
  const { apiKey } = await readJson(req, VerifyKeyRequestSchema);
  return jsonResponse(200, await verifyApiKeyForNode(node, apiKey));
});
