import { createTRPCRouter } from "../../trpc";
import { createTenantRoute } from "./create";
import { deleteTenantRoute } from "./delete";
import { getTenantRoute } from "./get";
import { listTenantsRoute } from "./list";
import { renameTenantRoute } from "./rename";
import { updateTenantSettingsRoute } from "./update-settings";

export const tenantRouter = createTRPCRouter({
  list: listTenantsRoute,
  create: createTenantRoute,
  get: getTenantRoute,
  rename: renameTenantRoute,
  updateSettings: updateTenantSettingsRoute,
  delete: deleteTenantRoute,
});
