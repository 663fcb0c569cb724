import type { Actor } from "~/server/actor";
import { db } from "~/server/db";

/** next-auth's database-session cookie, with and without the `__Secure-` prefix (https). */
export const SESSION_COOKIE_NAMES = ["__Secure-next-auth.session-token", "next-auth.session-token"] as const;

/** The session token from a `Cookie` header, or null. */
export function sessionTokenFromCookieHeader(cookieHeader: string | null | undefined): string | null {
  if (!cookieHeader) return null;
  const cookies = new Map<string, string>();
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
  }
  for (const name of SESSION_COOKIE_NAMES) {
    const v = cookies.get(name);
    if (v) return v;
  }
  return null;
}

export type UserActor = Extract<Actor, { type: "USER" }>;

export function userActor(user: { id: string; name: string | null; email: string | null; isPlatformAdmin: boolean }): UserActor {
  return { type: "USER", userId: user.id, label: user.email ?? user.name ?? user.id, isPlatformAdmin: user.isPlatformAdmin };
}

/**
 * The signed-in user of a next-auth database session, or null when the token is unknown or
 * expired. The same lookup next-auth's adapter does, without next-auth: the tRPC and REST
 * handlers (and tests) resolve sessions without going through Next.js request internals.
 */
export async function resolveSessionActor(sessionToken: string | null): Promise<UserActor | null> {
  if (!sessionToken) return null;
  const session = await db.session.findUnique({
    where: { sessionToken },
    select: { expires: true, user: { select: { id: true, name: true, email: true, isPlatformAdmin: true } } },
  });
  if (!session || session.expires.getTime() <= Date.now()) return null;
  return userActor(session.user);
}
