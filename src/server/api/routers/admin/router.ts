import { createTRPCRouter } from "../../trpc";
import { purgeAuditRoute } from "./purge-audit";
import { adminTenantsRoute } from "./tenants";

export const adminRouter = createTRPCRouter({
  tenants: adminTenantsRoute,
  purgeAudit: purgeAuditRoute,
});
