import { z } from "zod";
import { ZCreateInvitationInput, ZInvitation, ZInvitationIdInput, ZInvitationTokenInput, ZRole } from "~/server/contracts/tenant";

export const ZCreateInvitationRequestSchema = ZCreateInvitationInput;
export const ZCreateInvitationResponseSchema = z.object({
  invitation: ZInvitation,
  /** The secret of the link. Shown once: only its hash is stored. */
  token: z.string(),
  /** The full link to send, when the app knows its public URL (NEXTAUTH_URL). */
  url: z.string().nullable(),
});

export const ZListInvitationsResponseSchema = z.array(ZInvitation);

export const ZRevokeInvitationRequestSchema = ZInvitationIdInput;
export const ZRevokeInvitationResponseSchema = ZInvitation;

export const ZInvitationTokenRequestSchema = ZInvitationTokenInput;

export const ZPreviewInvitationResponseSchema = z.object({
  tenant: z.object({ name: z.string(), slug: z.string() }),
  email: z.string(),
  role: ZRole,
  expiresAt: z.date(),
  status: z.enum(["pending", "expired", "accepted", "revoked"]),
  problem: z.object({ code: z.string(), message: z.string() }).nullable(),
});

export const ZAcceptInvitationResponseSchema = z.object({
  tenant: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
  role: ZRole,
});
