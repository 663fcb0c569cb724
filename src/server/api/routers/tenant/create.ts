import { createTenant } from "~/server/services/tenants";
import { userProcedure } from "../../trpc";
import { ZCreateTenantRequestSchema, ZCreateTenantResponseSchema } from "./tenant.types";

/** Creates a tenant; the caller becomes its owner. Signed-in users only (not API keys). */
export const createTenantRoute = userProcedure
  .input(ZCreateTenantRequestSchema)
  .output(ZCreateTenantResponseSchema)
  .mutation(({ ctx, input }) => createTenant({ actor: ctx.actor, meta: ctx.meta }, input));
