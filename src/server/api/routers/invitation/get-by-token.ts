import { previewInvitation } from "~/server/services/invitations";
import { publicProcedure } from "../../trpc";
import { ZInvitationTokenRequestSchema, ZPreviewInvitationResponseSchema } from "./invitation.types";

/**
 * What the accept page shows, before or after signing in: tenant, role, invited email, status
 * and (when signed in) why the caller cannot accept. Public: holding the link is the credential.
 */
export const getInvitationByTokenRoute = publicProcedure
  .input(ZInvitationTokenRequestSchema)
  .output(ZPreviewInvitationResponseSchema)
  .query(({ ctx, input }) =>
    previewInvitation(ctx.actor?.type === "USER" ? { actor: ctx.actor, meta: ctx.meta } : null, input),
  );
