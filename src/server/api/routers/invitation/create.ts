import { env } from "~/env.js";
import { createInvitation } from "~/server/services/invitations";
import { tenantProcedure } from "../../trpc";
import { ZCreateInvitationRequestSchema, ZCreateInvitationResponseSchema } from "./invitation.types";

/** The accept page's link for a token (null when the public URL is not configured). */
export function invitationUrl(token: string): string | null {
  return env.NEXTAUTH_URL ? `${env.NEXTAUTH_URL.replace(/\/$/, "")}/invite/${encodeURIComponent(token)}` : null;
}

/** Invites by email; the link (single use, 7 days) is returned once. Only owners invite owners. */
export const createInvitationRoute = tenantProcedure("member:invite")
  .input(ZCreateInvitationRequestSchema)
  .output(ZCreateInvitationResponseSchema)
  .mutation(async ({ ctx, input }) => {
    const { invitation, token } = await createInvitation(ctx.tenant, input);
    return { invitation, token, url: invitationUrl(token) };
  });
