import { createTRPCRouter } from "../../trpc";
import { changeRoleRoute } from "./change-role";
import { leaveTenantRoute } from "./leave";
import { listMembersRoute } from "./list";
import { removeMemberRoute } from "./remove";

export const memberRouter = createTRPCRouter({
  list: listMembersRoute,
  changeRole: changeRoleRoute,
  remove: removeMemberRoute,
  leave: leaveTenantRoute,
});
