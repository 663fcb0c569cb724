import type { Permission, Role } from "~/server/auth/permissions";
import { permissionsOf } from "~/server/auth/permissions";
import type { UserActor } from "~/server/auth/session";
import { db } from "~/server/db";
import { AppError } from "~/server/errors";

export interface MeMembership {
  tenantId: string;
  role: Role;
  tenant: { id: string; name: string; slug: string };
  /** What this role may do in the tenant, in matrix order (the UI hides the rest). */
  permissions: Permission[];
}

export interface Me {
  user: { id: string; name: string | null; email: string | null; image: string | null; isPlatformAdmin: boolean };
  memberships: MeMembership[];
}

/** The signed-in user with their memberships and per-tenant permissions. */
export async function getMe(actor: UserActor): Promise<Me> {
  const user = await db.user.findUnique({
    where: { id: actor.userId },
    select: {
      id: true,
      name: true,
      email: true,
      image: true,
      isPlatformAdmin: true,
      memberships: { select: { role: true, tenant: { select: { id: true, name: true, slug: true } } }, orderBy: { tenant: { name: "asc" } } },
    },
  });
  if (!user) throw new AppError("UNAUTHENTICATED", "Your account no longer exists; sign in again");
  const { memberships, ...profile } = user;
  return {
    user: profile,
    memberships: memberships.map((m) => ({ tenantId: m.tenant.id, role: m.role, tenant: m.tenant, permissions: permissionsOf(m.role) })),
  };
}
