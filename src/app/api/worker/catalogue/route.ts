/** GET /api/worker/catalogue — the node's tenant's shared files; 304 when `If-None-Match` is current. */
import { jsonResponse, nodeRoute } from "~/server/api/worker-http";
import { getCatalogue } from "~/server/services/node-join";

export const dynamic = "force-dynamic";

export const GET = nodeRoute(async (req, node) => {
  const catalogue = await getCatalogue(node, req.headers.get("if-none-match"));
  if (!catalogue) return new Response(null, { status: 304 });
  return jsonResponse(200, catalogue, { etag: catalogue.etag });
});
