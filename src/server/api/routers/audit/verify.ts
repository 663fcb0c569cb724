import { verifyTenantAuditChain } from "~/server/services/audit";
import { tenantProcedure } from "../../trpc";
import { ZVerifyAuditResponseSchema } from "./audit.types";

/** Re-checks the tenant's hash chain and reports the first broken link. */
export const verifyAuditRoute = tenantProcedure("audit:verify")
  .output(ZVerifyAuditResponseSchema)
  .mutation(({ ctx }) => verifyTenantAuditChain(ctx.tenant));
