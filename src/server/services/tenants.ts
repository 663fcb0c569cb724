import type { Prisma } from "~/generated/prisma";
import type { TenantContext } from "~/server/actor";
import { authorize } from "~/server/actor";
import { recordAudit } from "~/server/audit/record";
import type { TCreateTenantInput, TDeleteTenantInput, TRenameTenantInput, TTenant, TTenantSettingsInput } from "~/server/contracts/tenant";
import { TENANT_SLUG_PATTERN, slugify } from "~/server/contracts/tenant";
export { slugify };
import { db } from "~/server/db";
import { AppError } from "~/server/errors";
import type { Role } from "~/server/auth/permissions";
import type { UserContext } from "./shared";
import { isUniqueViolation } from "./shared";

export const tenantSelect = {
  id: true,
  name: true,
  slug: true,
  auditRetentionDays: true,
  createdAt: true,
  updatedAt: true,
} satisfies Prisma.TenantSelect;

/** Where-builder: the context's own tenant. */
export function tenantWhere(ctx: TenantContext): { id: string } {
  return { id: ctx.tenantId };
}


async function unusedSlug(base: string): Promise<string> {
  const root = TENANT_SLUG_PATTERN.test(base) && base.length >= 2 ? base : `tenant${base ? `-${base}` : ""}`.slice(0, 40);
  for (let i = 0; i < 20; i++) {
    const candidate = i === 0 ? root : `${root}-${Math.random().toString(36).slice(2, 6)}`;
    // Unscoped on purpose: slugs are unique platform-wide, only existence is read.
    const taken = await db.tenant.findUnique({ where: { slug: candidate }, select: { id: true } });
    if (!taken) return candidate;
  }
  throw new AppError("CONFLICT", "Could not find a free slug; choose one", { fields: { slug: ["Choose a slug"] } });
}

/**
 * Creates a tenant; the creator becomes its OWNER. Slug: the given one (CONFLICT on the `slug`
 * field if taken) or derived from the name.
 */
export async function createTenant(ctx: UserContext, input: TCreateTenantInput): Promise<TTenant> {
  const slug = input.slug ?? (await unusedSlug(slugify(input.name)));
  try {
    return await db.$transaction(async (tx) => {
      const tenant = await tx.tenant.create({ data: { name: input.name, slug }, select: tenantSelect });
      await tx.membership.create({ data: { tenantId: tenant.id, userId: ctx.actor.userId, role: "OWNER" } });
      await recordAudit(
        tx,
        { actor: ctx.actor, tenantId: tenant.id, meta: ctx.meta },
        { action: "tenant.created", target: { type: "tenant", id: tenant.id }, after: { name: tenant.name, slug: tenant.slug, ownerId: ctx.actor.userId } },
      );
      return tenant;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError("CONFLICT", `The slug "${slug}" is taken`, { fields: { slug: ["This slug is taken; choose another"] } });
    throw err;
  }
}

/** The tenants the user belongs to, with their role, by name. */
export async function listMyTenants(ctx: UserContext): Promise<(TTenant & { role: Role })[]> {
  const memberships = await db.membership.findMany({
    where: { userId: ctx.actor.userId },
    select: { role: true, tenant: { select: tenantSelect } },
    orderBy: { tenant: { name: "asc" } },
  });
  return memberships.map((m) => ({ ...m.tenant, role: m.role }));
}

export async function getTenant(ctx: TenantContext): Promise<TTenant> {
  authorize(ctx, "tenant:read");
  const tenant = await db.tenant.findUnique({ where: tenantWhere(ctx), select: tenantSelect });
  if (!tenant) throw AppError.notFound("Tenant");
  return tenant;
}

export async function renameTenant(ctx: TenantContext, input: TRenameTenantInput): Promise<TTenant> {
  authorize(ctx, "tenant:update");
  return db.$transaction(async (tx) => {
    const before = await tx.tenant.findUnique({ where: tenantWhere(ctx), select: { name: true } });
    if (!before) throw AppError.notFound("Tenant");
    const tenant = await tx.tenant.update({ where: tenantWhere(ctx), data: { name: input.name }, select: tenantSelect });
    await recordAudit(tx, ctx, { action: "tenant.renamed", target: { type: "tenant", id: ctx.tenantId }, before, after: { name: tenant.name } });
    return tenant;
  });
}

export async function updateTenantSettings(ctx: TenantContext, input: TTenantSettingsInput): Promise<TTenant> {
  authorize(ctx, "tenant:update");
  return db.$transaction(async (tx) => {
    const before = await tx.tenant.findUnique({ where: tenantWhere(ctx), select: { auditRetentionDays: true } });
    if (!before) throw AppError.notFound("Tenant");
    const tenant = await tx.tenant.update({ where: tenantWhere(ctx), data: { auditRetentionDays: input.auditRetentionDays }, select: tenantSelect });
    await recordAudit(tx, ctx, {
      action: "tenant.settings_updated",
      target: { type: "tenant", id: ctx.tenantId },
      before,
      after: { auditRetentionDays: tenant.auditRetentionDays },
    });
    return tenant;
  });
}

/**
 * Deletes the tenant and everything it owns (cascade), after the user typed its slug or its
 * name. Owners only (`tenant:delete`). The tenant's own audit chain goes with it, so the
 * deletion is recorded in the platform chain (target = the tenant id) in the same transaction.
 */
export async function deleteTenant(ctx: TenantContext, input: TDeleteTenantInput): Promise<{ id: string; slug: string }> {
  authorize(ctx, "tenant:delete");
  return db.$transaction(async (tx) => {
    const tenant = await tx.tenant.findUnique({ where: tenantWhere(ctx), select: { id: true, name: true, slug: true, _count: { select: { memberships: true } } } });
    if (!tenant) throw AppError.notFound("Tenant");
    if (input.confirm !== tenant.slug && input.confirm !== tenant.name) {
      throw AppError.validation({ confirm: [`Type "${tenant.slug}" to confirm`] }, "The confirmation does not match the tenant");
    }
    await tx.tenant.delete({ where: { id: tenant.id } });
    await tx.auditChainHead.deleteMany({ where: { chainId: tenant.id } });
    await recordAudit(
      tx,
      { actor: ctx.actor, tenantId: null, meta: ctx.meta },
      { action: "tenant.deleted", target: { type: "tenant", id: tenant.id }, before: { name: tenant.name, slug: tenant.slug, members: tenant._count.memberships } },
    );
    return { id: tenant.id, slug: tenant.slug };
  });
}

/**
 * Every tenant on the platform. UNSCOPED: only for platform administrators (support), called
 * from `platformAdminProcedure`.
 */
export async function unsafeListAllTenants(): Promise<(TTenant & { members: number })[]> {
  const tenants = await db.tenant.findMany({ select: { ...tenantSelect, _count: { select: { memberships: true } } }, orderBy: { createdAt: "desc" } });
  return tenants.map(({ _count, ...t }) => ({ ...t, members: _count.memberships }));
}
