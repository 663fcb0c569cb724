import { leaveTenant } from "~/server/services/memberships";
import { tenantProcedure } from "../../trpc";
import { ZRemoveMemberResponseSchema } from "./member.types";

/** The caller leaves the tenant (any member; not the last owner). */
export const leaveTenantRoute = tenantProcedure("tenant:read", { userOnly: true })
  .output(ZRemoveMemberResponseSchema)
  .mutation(({ ctx }) => leaveTenant(ctx.tenant));
