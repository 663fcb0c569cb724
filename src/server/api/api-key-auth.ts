import type { Actor, RequestMeta } from "~/server/actor";
import { authenticateApiKey as authenticateKey } from "~/server/services/api-keys";

export type ApiKeyActor = Extract<Actor, { type: "API_KEY" }>;

/**
 * The API-key actor of a raw key, or throws AppError API_KEY_INVALID / API_KEY_REVOKED /
 * API_KEY_EXPIRED / RATE_LIMITED (the service audits and rate-limits failures itself).
 * The key's tenant is `actor.tenantId`.
 */
export async function authenticateApiKey(rawKey: string, meta: RequestMeta): Promise<ApiKeyActor> {
  return (await authenticateKey(rawKey, meta)).actor;
}
