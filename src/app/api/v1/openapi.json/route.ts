import { openApiResponse } from "~/server/rest/openapi";

/** GET /api/v1/openapi.json — OpenAPI 3.1, generated from the routes' zod schemas (public). */
export const dynamic = "force-dynamic";
export function GET(req: Request): Response {
  return openApiResponse(req);
}
