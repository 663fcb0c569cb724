import { restHandler } from "~/server/rest/handler";
import { queryAuditRoute } from "~/server/rest/routes";

export const dynamic = "force-dynamic";
export const GET = restHandler(queryAuditRoute);
