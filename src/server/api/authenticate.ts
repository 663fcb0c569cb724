import type { RequestMeta } from "~/server/actor";
import type { UserActor } from "~/server/auth/session";
import { resolveSessionActor, sessionTokenFromCookieHeader } from "~/server/auth/session";
import { AppError, isAppError } from "~/server/errors";
import type { ApiKeyActor } from "./api-key-auth";
import { authenticateApiKey } from "./api-key-auth";

export type RequestActor = UserActor | ApiKeyActor;

/**
 * Who is calling: `Authorization: Bearer <api key>` when present (a bad key is an error, never
 * a silent fall back to the cookie), else the next-auth database session cookie, else nobody.
 * Failures are returned, not thrown, so public procedures still answer and the authed tiers
 * report the precise reason (revoked, expired, ...).
 */
export async function authenticateRequest(
  headers: Headers,
  meta: RequestMeta,
): Promise<{ actor: RequestActor | null; authError: AppError | null }> {
  const authorization = headers.get("authorization");
  if (authorization) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m?.[1]) return { actor: null, authError: new AppError("UNAUTHENTICATED", "Authorization header must be `Bearer <api key>`") };
    try {
      return { actor: await authenticateApiKey(m[1], meta), authError: null };
    } catch (err) {
      if (isAppError(err)) return { actor: null, authError: err };
      throw err;
    }
  }
  const actor = await resolveSessionActor(sessionTokenFromCookieHeader(headers.get("cookie")));
  return { actor, authError: null };
}
