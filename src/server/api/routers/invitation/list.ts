import { listPendingInvitations } from "~/server/services/invitations";
import { tenantProcedure } from "../../trpc";
import { ZListInvitationsResponseSchema } from "./invitation.types";

/** Pending invitations (not accepted, not revoked; expired ones included). */
export const listInvitationsRoute = tenantProcedure("member:read")
  .output(ZListInvitationsResponseSchema)
  .query(({ ctx }) => listPendingInvitations(ctx.tenant));
