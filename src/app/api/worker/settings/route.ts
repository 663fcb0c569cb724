/** GET /api/worker/settings — the tenant's active worker settings; 304 when `If-None-Match` is current. */
import { jsonResponse, nodeRoute } from "~/server/api/worker-http";
import { getNodeSettings, settingsEtag } from "~/server/services/node-join";

export const dynamic = "force-dynamic";

export const GET = nodeRoute(async (req, node) => {
  const settings = await getNodeSettings(node);
  const etag = settingsEtag(settings.version);
  if (req.headers.get("if-none-match") === etag) return new Response(null, { status: 304 });
  return jsonResponse(200, settings, { etag });
});
