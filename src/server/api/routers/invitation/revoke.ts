import { revokeInvitation } from "~/server/services/invitations";
import { tenantProcedure } from "../../trpc";
import { ZRevokeInvitationRequestSchema, ZRevokeInvitationResponseSchema } from "./invitation.types";

export const revokeInvitationRoute = tenantProcedure("member:invite")
  .input(ZRevokeInvitationRequestSchema)
  .output(ZRevokeInvitationResponseSchema)
  .mutation(({ ctx, input }) => revokeInvitation(ctx.tenant, input));
