import { revokeApiKey } from "~/server/services/api-keys";
import { tenantProcedure } from "../../trpc";
import { ZRevokeApiKeyRequestSchema, ZRevokeApiKeyResponseSchema } from "./api-key.types";

/** Immediate on this replica; other replicas stop accepting the key within 2 s (their key cache TTL, API_KEY_CACHE_TTL_MS). */
export const revokeApiKeyRoute = tenantProcedure("apikey:revoke")
  .input(ZRevokeApiKeyRequestSchema)
  .output(ZRevokeApiKeyResponseSchema)
  .mutation(({ ctx, input }) => revokeApiKey(ctx.tenant, { id: input.id }));
