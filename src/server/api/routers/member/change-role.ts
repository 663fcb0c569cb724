import { changeMemberRole } from "~/server/services/memberships";
import { tenantProcedure } from "../../trpc";
import { ZChangeRoleRequestSchema, ZChangeRoleResponseSchema } from "./member.types";

/** Only owners grant or revoke OWNER; the last owner cannot be demoted (LAST_OWNER). */
export const changeRoleRoute = tenantProcedure("member:update")
  .input(ZChangeRoleRequestSchema)
  .output(ZChangeRoleResponseSchema)
  .mutation(({ ctx, input }) => changeMemberRole(ctx.tenant, input));
