import { getTenant } from "~/server/services/tenants";
import { tenantProcedure } from "../../trpc";
import { ZGetTenantResponseSchema } from "./tenant.types";

export const getTenantRoute = tenantProcedure("tenant:read")
  .output(ZGetTenantResponseSchema)
  .query(({ ctx }) => getTenant(ctx.tenant));
