import { listMyTenants } from "~/server/services/tenants";
import { userProcedure } from "../../trpc";
import { ZListTenantsResponseSchema } from "./tenant.types";

/** The caller's tenants, with their role in each. */
export const listTenantsRoute = userProcedure.output(ZListTenantsResponseSchema).query(({ ctx }) => listMyTenants({ actor: ctx.actor, meta: ctx.meta }));
