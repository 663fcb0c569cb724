import { removeMember } from "~/server/services/memberships";
import { tenantProcedure } from "../../trpc";
import { ZRemoveMemberRequestSchema, ZRemoveMemberResponseSchema } from "./member.types";

/** Only owners remove owners; the last owner cannot be removed (LAST_OWNER). */
export const removeMemberRoute = tenantProcedure("member:remove")
  .input(ZRemoveMemberRequestSchema)
  .output(ZRemoveMemberResponseSchema)
  .mutation(({ ctx, input }) => removeMember(ctx.tenant, input));
