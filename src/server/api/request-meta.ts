import { randomUUID } from "node:crypto";
import type { RequestMeta } from "~/server/actor";
import type { HeaderReader } from "~/server/rest/direct";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request id, client IP and user agent of an incoming request.
 * - `x-request-id` is kept when it looks like an id (so a proxy's id follows the request into
 *   the audit log), otherwise a new UUID is generated;
 * - the IP is the first hop of `x-forwarded-for`, else `x-real-ip`. The control plane is meant
 *   to run behind a reverse proxy that sets these; without one, the values are client-supplied
 *   and the audit log records them as such.
 */
export function requestMetaFromHeaders(headers: HeaderReader): RequestMeta {
  const given = headers.get("x-request-id")?.trim();
  const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
  const forwarded = headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  const ip = (forwarded || headers.get("x-real-ip")?.trim() || null)?.slice(0, 64) ?? null;
  const userAgent = headers.get("user-agent")?.slice(0, 512) ?? null;
  return { requestId, ip, userAgent };
}

/** The raw API key of `Authorization: Bearer <key>`, or null when there is no bearer token. */
export function bearerToken(headers: HeaderReader): string | null {
  const auth = headers.get("authorization");
  if (!auth) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
  return m?.[1] ?? null;
}
