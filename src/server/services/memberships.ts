import type { Prisma } from "~/generated/prisma";
import type { TenantContext } from "~/server/actor";
import { authorize } from "~/server/actor";
import { recordAudit } from "~/server/audit/record";
import type { Role } from "~/server/auth/permissions";
import type { TChangeRoleInput, TMember } from "~/server/contracts/tenant";
import { db } from "~/server/db";
import { AppError } from "~/server/errors";
import { lockTenantForMembershipChange } from "./shared";

export const memberSelect = {
  id: true,
  userId: true,
  role: true,
  createdAt: true,
  user: { select: { id: true, name: true, email: true, image: true } },
} satisfies Prisma.MembershipSelect;

/** Where-builder: memberships of the context's tenant. */
export function membershipWhere(ctx: TenantContext, extra: Prisma.MembershipWhereInput = {}): Prisma.MembershipWhereInput {
  return { ...extra, tenantId: ctx.tenantId };
}

/** Owners first, then by join date. */
export async function listMembers(ctx: TenantContext): Promise<TMember[]> {
  authorize(ctx, "member:read");
  const members = await db.membership.findMany({ where: membershipWhere(ctx), select: memberSelect, orderBy: { createdAt: "asc" } });
  const rank: Record<Role, number> = { OWNER: 0, ADMIN: 1, OPERATOR: 2, VIEWER: 3 };
  return members.sort((a, b) => rank[a.role] - rank[b.role]);
}

/** Only an owner may touch ownership: make someone OWNER, or change/remove an OWNER. */
function assertMayTouchOwnership(ctx: TenantContext, targetRole: Role, newRole: Role | null): void {
  const touchesOwnership = targetRole === "OWNER" || newRole === "OWNER";
  if (touchesOwnership && ctx.role !== "OWNER") throw new AppError("FORBIDDEN", "Only owners can grant or revoke ownership");
}

async function ownerCount(tx: Prisma.TransactionClient, tenantId: string): Promise<number> {
  return tx.membership.count({ where: { tenantId, role: "OWNER" } });
}

/**
 * Runs a membership change of one tenant under the tenant row lock (see
 * `lockTenantForMembershipChange`): two owners demoting each other at the same time are
 * serialized, the second sees the first's result, and the last-owner rule holds.
 */
async function withMembershipLock<T>(ctx: TenantContext, fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  return db.$transaction(async (tx) => {
    if (!(await lockTenantForMembershipChange(tx, ctx.tenantId))) throw AppError.notFound("Tenant");
    return fn(tx);
  });
}

async function findTarget(tx: Prisma.TransactionClient, ctx: TenantContext, userId: string) {
  const target = await tx.membership.findFirst({ where: membershipWhere(ctx, { userId }), select: memberSelect });
  if (!target) throw AppError.notFound("Member");
  return target;
}

/**
 * Changes a member's role. Rules: only owners grant or revoke OWNER; the last owner cannot be
 * demoted (LAST_OWNER). Setting the role a member already has changes nothing and records nothing.
 */
export async function changeMemberRole(ctx: TenantContext, input: TChangeRoleInput): Promise<TMember> {
  authorize(ctx, "member:update");
  return withMembershipLock(ctx, async (tx) => {
    const target = await findTarget(tx, ctx, input.userId);
    if (target.role === input.role) return target;
    assertMayTouchOwnership(ctx, target.role, input.role);
    if (target.role === "OWNER" && (await ownerCount(tx, ctx.tenantId)) <= 1) {
      throw new AppError("LAST_OWNER", "The last owner cannot be demoted: make someone else owner first");
    }
    const updated = await tx.membership.update({ where: { id: target.id }, data: { role: input.role }, select: memberSelect });
    await recordAudit(tx, ctx, {
      action: "member.role_changed",
      target: { type: "user", id: target.userId },
      before: { role: target.role },
      after: { role: updated.role, email: target.user.email },
    });
    return updated;
  });
}

/** Removes a member (yourself included). Only owners remove owners; the last owner stays. */
export async function removeMember(ctx: TenantContext, input: { userId: string }): Promise<{ userId: string }> {
  authorize(ctx, "member:remove");
  return withMembershipLock(ctx, async (tx) => {
    const target = await findTarget(tx, ctx, input.userId);
    assertMayTouchOwnership(ctx, target.role, null);
    if (target.role === "OWNER" && (await ownerCount(tx, ctx.tenantId)) <= 1) {
      throw new AppError("LAST_OWNER", "The last owner cannot be removed: make someone else owner first");
    }
    await tx.membership.delete({ where: { id: target.id } });
    await recordAudit(tx, ctx, {
      action: "member.removed",
      target: { type: "user", id: target.userId },
      before: { role: target.role, email: target.user.email },
    });
    return { userId: target.userId };
  });
}

/** The signed-in user leaves the tenant (any role; the last owner cannot). */
export async function leaveTenant(ctx: TenantContext): Promise<{ userId: string }> {
  if (ctx.actor.type !== "USER") throw new AppError("FORBIDDEN", "Only a signed-in member can leave a tenant");
  const userId = ctx.actor.userId;
  return withMembershipLock(ctx, async (tx) => {
    const me = await findTarget(tx, ctx, userId);
    if (me.role === "OWNER" && (await ownerCount(tx, ctx.tenantId)) <= 1) {
      throw new AppError("LAST_OWNER", "You are the last owner: make someone else owner before leaving, or delete the tenant");
    }
    await tx.membership.delete({ where: { id: me.id } });
    await recordAudit(tx, ctx, { action: "member.removed", target: { type: "user", id: userId }, before: { role: me.role, email: me.user.email }, after: { left: true } });
    return { userId };
  });
}
