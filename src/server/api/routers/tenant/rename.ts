import { renameTenant } from "~/server/services/tenants";
import { tenantProcedure } from "../../trpc";
import { ZGetTenantResponseSchema, ZRenameTenantRequestSchema } from "./tenant.types";

export const renameTenantRoute = tenantProcedure("tenant:update")
  .input(ZRenameTenantRequestSchema)
  .output(ZGetTenantResponseSchema)
  .mutation(({ ctx, input }) => renameTenant(ctx.tenant, input));
