import { z } from "zod";
import { ZApiKey, ZApiKeyCreate, ZApiKeyCreated, ZApiKeyIdInput } from "~/server/contracts/api-key";
import { ZPage, ZPageQuery } from "~/server/contracts/common";

export const ZCreateApiKeyRequestSchema = ZApiKeyCreate;
export const ZCreateApiKeyResponseSchema = ZApiKeyCreated;
export const ZListApiKeysRequestSchema = z.object({ cursor: ZPageQuery.shape.cursor, limit: z.number().int().min(1).max(100).default(50) });
export const ZListApiKeysResponseSchema = ZPage(ZApiKey);
// Not the strict `ZApiKeyIdInput` itself: tRPC hands every input parser the whole input,
// which also carries `tenantId`, and a strict object would refuse it (unrecognized_keys).
export const ZRevokeApiKeyRequestSchema = z.object({ id: ZApiKeyIdInput.shape.id });
export const ZRevokeApiKeyResponseSchema = ZApiKey;
