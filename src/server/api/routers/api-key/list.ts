import { listApiKeys } from "~/server/services/api-keys";
import { tenantProcedure } from "../../trpc";
import { ZListApiKeysRequestSchema, ZListApiKeysResponseSchema } from "./api-key.types";

export const listApiKeysRoute = tenantProcedure("apikey:read")
  .input(ZListApiKeysRequestSchema)
  .output(ZListApiKeysResponseSchema)
  .query(({ ctx, input }) => listApiKeys(ctx.tenant, { cursor: input.cursor, limit: input.limit }));
