import type { Permission, Role } from "./auth/permissions";
import { can, scopesAllow } from "./auth/permissions";
import { AppError } from "./errors";

/** Who is acting. Taken from the session, the API key or the node credential; never from input. */
export type Actor =
  | { type: "USER"; userId: string; label: string; isPlatformAdmin: boolean }
  | { type: "API_KEY"; apiKeyId: string; tenantId: string; scopes: string[]; filePatterns: string[]; label: string }
  | { type: "NODE"; nodeId: string; tenantId: string; label: string }
  | { type: "SYSTEM"; label: string };

/** Where a request came from; recorded on every audit event. */
export interface RequestMeta {
  requestId: string;
  ip?: string | null;
  userAgent?: string | null;
}

/**
 * What every tenant-scoped service function receives. `tenantId` here has been verified:
 * the actor is a member of it (USER), or the key/node belongs to it (API_KEY/NODE).
 * `role` is set for USER actors.
 */
export interface TenantContext {
  actor: Actor;
  tenantId: string;
  role: Role | null;
  meta: RequestMeta;
}

/** Whether the actor of a verified tenant context may do `permission`. */
export function allowed(ctx: TenantContext, permission: Permission): boolean {
  switch (ctx.actor.type) {
    case "USER":
      return ctx.role !== null && can(ctx.role, permission);
    case "API_KEY":
      return scopesAllow(ctx.actor.scopes, permission);
    case "NODE":
      return permission === "node:read" || permission === "file:read" || permission === "settings:read";
    case "SYSTEM":
      return true;
  }
}

/** Throws FORBIDDEN naming the permission when the actor may not do it. */
export function authorize(ctx: TenantContext, permission: Permission): void {
  if (!allowed(ctx, permission)) throw AppError.forbidden(permission);
}
