import { createApiKey } from "~/server/services/api-keys";
import { tenantProcedure } from "../../trpc";
import { ZCreateApiKeyRequestSchema, ZCreateApiKeyResponseSchema } from "./api-key.types";

/** Creates a key; the response's `secret` is the only time the full key is ever shown. */
export const createApiKeyRoute = tenantProcedure("apikey:create")
  .input(ZCreateApiKeyRequestSchema)
  .output(ZCreateApiKeyResponseSchema)
  .mutation(({ ctx, input }) => createApiKey(ctx.tenant, input));
