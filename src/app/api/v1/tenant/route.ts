import { restHandler } from "~/server/rest/handler";
import { getTenantRoute } from "~/server/rest/routes";

export const dynamic = "force-dynamic";
export const GET = restHandler(getTenantRoute);
