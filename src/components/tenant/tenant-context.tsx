"use client";

import { createContext, useContext } from "react";

import { can as roleCan, type Permission, type Role } from "~/server/auth/permissions";

/** The tenant the current page is about, with the signed-in user's role in it. */
export type CurrentTenant = {
  id: string;
  slug: string;
  name: string;
  role: Role;
  /** Whether the user's role allows `permission` (the server still decides; this hides UI). */
  can: (permission: Permission) => boolean;
};

const TenantContext = createContext<CurrentTenant | null>(null);

export function TenantProvider({
  tenant,
  children,
}: {
  tenant: { id: string; slug: string; name: string; role: Role };
  children: React.ReactNode;
}) {
  const value: CurrentTenant = { ...tenant, can: (p) => roleCan(tenant.role, p) };
  return <TenantContext.Provider value={value}>{children}</TenantContext.Provider>;
}

/** The current tenant; only valid below `/t/[tenantSlug]`. */
export function useTenant(): CurrentTenant {
  const t = useContext(TenantContext);
  if (!t) throw new Error("useTenant() outside a tenant route");
  return t;
}

/** Link helper: `tenantHref(t, "members")` → `/t/acme/members`. */
export function tenantHref(t: { slug: string }, path = ""): string {
  return `/t/${encodeURIComponent(t.slug)}${path ? `/${path}` : ""}`;
}

export const ROLE_LABELS: Record<Role, string> = {
  OWNER: "Owner",
  ADMIN: "Admin",
  OPERATOR: "Operator",
  VIEWER: "Viewer",
};

export const ROLE_HELP: Record<Role, string> = {
  OWNER: "Everything, including deleting the tenant and granting ownership.",
  ADMIN: "Everything except deleting the tenant: members, API keys, files, nodes, settings.",
  OPERATOR: "Runs the data plane: creates and edits shared files, manages nodes, reads the audit log.",
  VIEWER: "Read-only access to everything in the tenant.",
};
