/**
 * GET /api/v1/events — the tenant event feed (server-sent events).
 *
 * Browsers' EventSource cannot send headers, so a signed-in browser names its tenant with
 * `?tenant=`; it becomes the X-Commy-Tenant header the REST authentication reads (membership is
 * verified there as for any request). An explicit header wins.
 */
import { restHandler } from "~/server/rest/handler";
import { eventFeedRoute } from "~/server/rest/routes";

export const dynamic = "force-dynamic";

const handler = restHandler(eventFeedRoute);

export async function GET(req: Request): Promise<Response> {
  const tenant = new URL(req.url).searchParams.get("tenant");
  if (tenant && !req.headers.has("x-commy-tenant")) {
    const headers = new Headers(req.headers);
    headers.set("x-commy-tenant", tenant);
    req = new Request(req, { headers });
  }
  return handler(req);
}
