import { restHandler } from "~/server/rest/handler";
import { exportAuditRoute } from "~/server/rest/routes";

export const dynamic = "force-dynamic";
export const GET = restHandler(exportAuditRoute);
