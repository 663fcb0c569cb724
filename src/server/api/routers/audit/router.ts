import { createTRPCRouter } from "../../trpc";
import { listAuditRoute } from "./list";
import { verifyAuditRoute } from "./verify";

/** Export (CSV / JSON Lines) streams from GET /api/tenants/{tenantId}/audit/export, not tRPC. */
export const auditRouter = createTRPCRouter({
  list: listAuditRoute,
  verify: verifyAuditRoute,
});
