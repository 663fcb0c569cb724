import { unsafeListAllTenants } from "~/server/services/tenants";
import { platformAdminProcedure } from "../../trpc";
import { ZAdminTenantsResponseSchema } from "./admin.types";

/** Every tenant on the platform (support view). Platform administrators only. */
export const adminTenantsRoute = platformAdminProcedure.output(ZAdminTenantsResponseSchema).query(() => unsafeListAllTenants());
