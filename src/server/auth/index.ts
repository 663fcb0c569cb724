/**
 * next-auth (v4) configuration: providers, database sessions, audit of sign-ins/outs.
 *
 * Providers are enabled by their environment variables (see src/env.js):
 * - generic OIDC (`oidc`) with OIDC_ISSUER / OIDC_CLIENT_ID / OIDC_CLIENT_SECRET (OIDC_NAME is
 *   the button label). The local development provider (dev/oidc-provider) uses these too.
 * - GitHub with GITHUB_ID / GITHUB_SECRET; Google with GOOGLE_ID / GOOGLE_SECRET.
 *
 * Sessions live in the database (the `Session` table), so signing out or deleting a session
 * row ends access at once on every replica; tRPC and REST resolve the same cookie.
 */
import { randomUUID } from "node:crypto";
import { PrismaAdapter } from "@next-auth/prisma-adapter";
import type { DefaultSession, NextAuthOptions } from "next-auth";
import { getServerSession } from "next-auth";
import type { OAuthConfig, Provider } from "next-auth/providers/index";
import GitHubProvider from "next-auth/providers/github";
import GoogleProvider from "next-auth/providers/google";
import { headers } from "next/headers";

import { env } from "~/env.js";
import type { RequestMeta } from "~/server/actor";
import { requestMetaFromHeaders } from "~/server/api/request-meta";
import { db } from "~/server/db";
import { logger } from "~/server/logger";
import { auditSessionEvent } from "~/server/services/auth-events";

declare module "next-auth" {
  interface Session extends DefaultSession {
    user: DefaultSession["user"] & { id: string; isPlatformAdmin: boolean };
  }
  interface User {
    isPlatformAdmin?: boolean;
  }
}

interface OidcProfile {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  preferred_username?: string;
  picture?: string;
}

/** Provider id of the generic OIDC provider (also used by the seed to link the demo user). */
export const OIDC_PROVIDER_ID = "oidc";

function oidcProvider(): OAuthConfig<OidcProfile> | null {
  if (!env.OIDC_ISSUER || !env.OIDC_CLIENT_ID || !env.OIDC_CLIENT_SECRET) return null;
  return {
    id: OIDC_PROVIDER_ID,
    name: env.OIDC_NAME,
    type: "oauth",
    wellKnown: `${env.OIDC_ISSUER.replace(/\/$/, "")}/.well-known/openid-configuration`,
    clientId: env.OIDC_CLIENT_ID,
    clientSecret: env.OIDC_CLIENT_SECRET,
    authorization: { params: { scope: "openid email profile" } },
    idToken: true,
    checks: ["pkce", "state"],
    profile(profile) {
      return {
        id: profile.sub,
        name: profile.name ?? profile.preferred_username ?? profile.email ?? null,
        email: profile.email ?? null,
        image: profile.picture ?? null,
      };
    },
  };
}

/** The providers enabled by the current environment, in button order. */
export function enabledProviders(): Provider[] {
  const providers: Provider[] = [];
  const oidc = oidcProvider();
  if (oidc) providers.push(oidc);
  if (env.GITHUB_ID && env.GITHUB_SECRET) providers.push(GitHubProvider({ clientId: env.GITHUB_ID, clientSecret: env.GITHUB_SECRET }));
  if (env.GOOGLE_ID && env.GOOGLE_SECRET) providers.push(GoogleProvider({ clientId: env.GOOGLE_ID, clientSecret: env.GOOGLE_SECRET }));
  return providers;
}

/** Request id, IP and user agent of the current request, when there is one (events run inside the auth route). */
async function currentRequestMeta(): Promise<RequestMeta> {
  try {
    return requestMetaFromHeaders(new Headers(await headers()));
  } catch {
    return { requestId: randomUUID() };
  }
}

export const authOptions: NextAuthOptions = {
  // The generated client lives at a custom path; the adapter only uses its model delegates.
  adapter: PrismaAdapter(db as unknown as Parameters<typeof PrismaAdapter>[0]),
  session: { strategy: "database", maxAge: 30 * 24 * 60 * 60, updateAge: 24 * 60 * 60 },
  secret: env.NEXTAUTH_SECRET,
  providers: enabledProviders(),
  pages: { signIn: "/signin", error: "/signin" },
  callbacks: {
    /**
     * Refuses identities whose provider says the email is NOT verified: memberships are granted
     * by email (invitations), so an unverified address must never become a user here.
     */
    signIn({ profile }) {
      const verified = (profile as { email_verified?: boolean } | undefined)?.email_verified;
      return verified !== false;
    },
    session({ session, user }) {
      return {
        ...session,
        user: { ...session.user, id: user.id, isPlatformAdmin: Boolean((user as { isPlatformAdmin?: boolean }).isPlatformAdmin) },
      };
    },
  },
  events: {
    async signIn({ user, account, isNewUser }) {
      try {
        await auditSessionEvent("auth.signed_in", user.id, await currentRequestMeta(), { provider: account?.provider, isNewUser: Boolean(isNewUser) });
      } catch (err) {
        logger.error({ err, userId: user.id }, "could not audit sign-in");
      }
    },
    async signOut({ session }) {
      const userId = (session as { userId?: string } | null)?.userId;
      if (!userId) return;
      try {
        await auditSessionEvent("auth.signed_out", userId, await currentRequestMeta());
      } catch (err) {
        logger.error({ err, userId }, "could not audit sign-out");
      }
    },
  },
};

/** The session of the current request (server components, route handlers), or null. */
export function getServerAuthSession() {
  return getServerSession(authOptions);
}
