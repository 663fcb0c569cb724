import { createTRPCRouter } from "../../trpc";
import { acceptInvitationRoute } from "./accept";
import { createInvitationRoute } from "./create";
import { listInvitationsRoute } from "./list";
import { getInvitationByTokenRoute } from "./get-by-token";
import { revokeInvitationRoute } from "./revoke";

export const invitationRouter = createTRPCRouter({
  list: listInvitationsRoute,
  create: createInvitationRoute,
  revoke: revokeInvitationRoute,
  getByToken: getInvitationByTokenRoute,
  accept: acceptInvitationRoute,
});
