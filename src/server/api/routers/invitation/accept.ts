import { acceptInvitation } from "~/server/services/invitations";
import { userProcedure } from "../../trpc";
import { ZAcceptInvitationResponseSchema, ZInvitationTokenRequestSchema } from "./invitation.types";

/** Accepts as the signed-in user (email must match; single use; not expired or revoked). */
export const acceptInvitationRoute = userProcedure
  .input(ZInvitationTokenRequestSchema)
  .output(ZAcceptInvitationResponseSchema)
  .mutation(({ ctx, input }) => acceptInvitation({ actor: ctx.actor, meta: ctx.meta }, input));
