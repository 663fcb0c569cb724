/**
 * The one permission matrix. Every authorization decision in Commy, for people and for API
 * keys, in tRPC, REST and the worker API, is answered here. The UI imports it too, to hide
 * what a role cannot do; the server stays the authority.
 *
 * Pure module: no server imports, safe in client components.
 */

export const ROLES = ["OWNER", "ADMIN", "OPERATOR", "VIEWER"] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  "tenant:read",
  "tenant:update",
  "tenant:delete",
  "member:read",
  "member:invite",
  "member:update",
  "member:remove",
  "apikey:read",
  "apikey:create",
  "apikey:revoke",
  "file:read",
  "file:create",
  "file:update",
  "file:delete",
  "file:data:read",
  "file:data:write",
  "node:read",
  "node:manage",
  "settings:read",
  "settings:update",
  "audit:read",
  "audit:export",
  "audit:verify",
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const ALL: readonly Permission[] = PERMISSIONS;
const READS: readonly Permission[] = PERMISSIONS.filter((p) => p.endsWith(":read"));

/**
 * Role → permissions.
 * - OWNER: everything, and only owners delete the tenant or grant/revoke ownership (the
 *   ownership rule is enforced in the membership service on top of `member:update`).
 * - ADMIN: everything but deleting the tenant.
 * - OPERATOR: runs the data plane: files (not delete), nodes, worker settings, data, audit read.
 * - VIEWER: reads.
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  OWNER: new Set(ALL),
  ADMIN: new Set(ALL.filter((p) => p !== "tenant:delete")),
  OPERATOR: new Set<Permission>([
    ...READS,
    "file:create",
    "file:update",
    "file:data:write",
    "node:manage",
    "settings:update",
    "audit:export",
    "audit:verify",
  ]),
  VIEWER: new Set(READS),
};

/** Scopes an API key can carry. A key can never manage members, keys or the tenant itself. */
export const API_KEY_SCOPES = [
  "tenant:read",
  "members:read",
  "files:read",
  "files:write",
  "data:read",
  "data:write",
  "nodes:read",
  "nodes:manage",
  "audit:read",
] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export const SCOPE_PERMISSIONS: Readonly<Record<ApiKeyScope, readonly Permission[]>> = {
  "tenant:read": ["tenant:read"],
  "members:read": ["member:read"],
  "files:read": ["file:read"],
  "files:write": ["file:read", "file:create", "file:update", "file:delete"],
  "data:read": ["file:read", "file:data:read"],
  "data:write": ["file:read", "file:data:read", "file:data:write"],
  "nodes:read": ["node:read"],
  "nodes:manage": ["node:read", "node:manage", "settings:read"],
  "audit:read": ["audit:read", "audit:export", "audit:verify"],
};

/** Whether a member with `role` may do `permission`. */
export function can(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].has(permission);
}

/** Whether an API key with `scopes` may do `permission`. */
export function scopesAllow(scopes: readonly string[], permission: Permission): boolean {
  return scopes.some((s) => (SCOPE_PERMISSIONS as Record<string, readonly Permission[] | undefined>)[s]?.includes(permission));
}

/** Every permission of a role, in matrix order (for `me` and the UI). */
export function permissionsOf(role: Role): Permission[] {
  return PERMISSIONS.filter((p) => ROLE_PERMISSIONS[role].has(p));
}

/** Roles ordered by power; used for "an admin cannot grant more than it has" checks. */
export const ROLE_RANK: Readonly<Record<Role, number>> = { OWNER: 3, ADMIN: 2, OPERATOR: 1, VIEWER: 0 };
