import { deleteTenant } from "~/server/services/tenants";
import { tenantProcedure } from "../../trpc";
import { ZDeleteTenantRequestSchema, ZDeleteTenantResponseSchema } from "./tenant.types";

/** Deletes the tenant and everything in it. Owners only; `confirm` must be the slug or the name. */
export const deleteTenantRoute = tenantProcedure("tenant:delete")
  .input(ZDeleteTenantRequestSchema)
  .output(ZDeleteTenantResponseSchema)
  .mutation(({ ctx, input }) => deleteTenant(ctx.tenant, input));
