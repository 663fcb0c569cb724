import { listMembers } from "~/server/services/memberships";
import { tenantProcedure } from "../../trpc";
import { ZListMembersResponseSchema } from "./member.types";

export const listMembersRoute = tenantProcedure("member:read")
  .output(ZListMembersResponseSchema)
  .query(({ ctx }) => listMembers(ctx.tenant));
