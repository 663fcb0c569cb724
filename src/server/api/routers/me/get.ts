import { getMe } from "~/server/services/me";
import { userProcedure } from "../../trpc";
import { ZGetMeResponseSchema } from "./get.types";

/** The signed-in user, their memberships and per-tenant permissions. */
export const getMeRoute = userProcedure.output(ZGetMeResponseSchema).query(({ ctx }) => getMe(ctx.actor));
