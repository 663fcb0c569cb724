import { updateTenantSettings } from "~/server/services/tenants";
import { tenantProcedure } from "../../trpc";
import { ZGetTenantResponseSchema, ZUpdateTenantSettingsRequestSchema } from "./tenant.types";

/** Tenant settings (audit retention in days). */
export const updateTenantSettingsRoute = tenantProcedure("tenant:update")
  .input(ZUpdateTenantSettingsRequestSchema)
  .output(ZGetTenantResponseSchema)
  .mutation(({ ctx, input }) => updateTenantSettings(ctx.tenant, input));
