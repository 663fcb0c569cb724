import type { Prisma } from "~/generated/prisma";
import type { TenantContext } from "~/server/actor";
import { authorize } from "~/server/actor";
import { recordAudit } from "~/server/audit/record";
import type { Role } from "~/server/auth/permissions";
import type { TCreateInvitationInput, TInvitation } from "~/server/contracts/tenant";
import { INVITATION_TTL_DAYS } from "~/server/contracts/tenant";
import { db } from "~/server/db";
import { AppError } from "~/server/errors";
import type { UserContext } from "./shared";
import { isUniqueViolation, lockTenantForMembershipChange, newSecretToken, sha256Hex } from "./shared";

const DAY_MS = 24 * 60 * 60 * 1000;

export const invitationSelect = {
  id: true,
  email: true,
  role: true,
  expiresAt: true,
  acceptedAt: true,
  revokedAt: true,
  createdAt: true,
  invitedById: true,
} satisfies Prisma.InvitationSelect;

/** Where-builder: invitations of the context's tenant. */
export function invitationWhere(ctx: TenantContext, extra: Prisma.InvitationWhereInput = {}): Prisma.InvitationWhereInput {
  return { ...extra, tenantId: ctx.tenantId };
}

/**
 * Creates an invitation and returns its token ONCE (only its SHA-256 is stored). The link is
 * single use, expires in 7 days, and only a signed-in user with this email can accept it.
 * A new invitation for the same email supersedes (revokes) the pending ones. Only owners
 * invite owners. Someone already a member → CONFLICT on `email`.
 */
export async function createInvitation(ctx: TenantContext, input: TCreateInvitationInput): Promise<{ invitation: TInvitation; token: string }> {
  authorize(ctx, "member:invite");
  if (input.role === "OWNER" && ctx.role !== "OWNER") {
    throw new AppError("FORBIDDEN", "Only owners can invite owners", { fields: { role: ["Only owners can invite owners"] } });
  }
  const email = input.email.trim().toLowerCase();
  const token = newSecretToken();
  const invitation = await db.$transaction(async (tx) => {
    const existing = await tx.membership.findFirst({
      where: { tenantId: ctx.tenantId, user: { email: { equals: email, mode: "insensitive" } } },
      select: { id: true },
    });
    if (existing) throw new AppError("CONFLICT", `${email} is already a member`, { fields: { email: ["Already a member of this tenant"] } });
    const now = new Date();
    const superseded = await tx.invitation.updateMany({
      where: invitationWhere(ctx, { email, acceptedAt: null, revokedAt: null }),
      data: { revokedAt: now },
    });
    const created = await tx.invitation.create({
      data: {
        tenantId: ctx.tenantId,
        email,
        role: input.role,
        tokenHash: sha256Hex(token),
        invitedById: ctx.actor.type === "USER" ? ctx.actor.userId : null,
        expiresAt: new Date(now.getTime() + INVITATION_TTL_DAYS * DAY_MS),
      },
      select: invitationSelect,
    });
    await recordAudit(tx, ctx, {
      action: "invitation.created",
      target: { type: "invitation", id: created.id },
      after: { email, role: created.role, expiresAt: created.expiresAt, superseded: superseded.count },
    });
    return created;
  });
  return { invitation, token };
}

/** Invitations neither accepted nor revoked (expired ones included, so the UI can show them as expired). */
export async function listPendingInvitations(ctx: TenantContext): Promise<TInvitation[]> {
  authorize(ctx, "member:read");
  return db.invitation.findMany({
    where: invitationWhere(ctx, { acceptedAt: null, revokedAt: null }),
    select: invitationSelect,
    orderBy: { createdAt: "desc" },
  });
}

export async function revokeInvitation(ctx: TenantContext, input: { invitationId: string }): Promise<TInvitation> {
  authorize(ctx, "member:invite");
  return db.$transaction(async (tx) => {
    const inv = await tx.invitation.findFirst({ where: invitationWhere(ctx, { id: input.invitationId }), select: invitationSelect });
    if (!inv) throw AppError.notFound("Invitation");
    if (inv.acceptedAt) throw new AppError("INVITATION_USED", "This invitation was already accepted");
    if (inv.revokedAt) return inv;
    if (inv.role === "OWNER" && ctx.role !== "OWNER") throw new AppError("FORBIDDEN", "Only owners can revoke an owner invitation");
    const revoked = await tx.invitation.update({ where: { id: inv.id }, data: { revokedAt: new Date() }, select: invitationSelect });
    await recordAudit(tx, ctx, { action: "invitation.revoked", target: { type: "invitation", id: inv.id }, before: { email: inv.email, role: inv.role } });
    return revoked;
  });
}

/**
 * Finds an invitation by its token. UNSCOPED on purpose: the token itself is the credential
 * (256 random bits); the caller has no tenant context yet.
 */
async function unsafeFindInvitationByToken(tx: Prisma.TransactionClient, token: string) {
  return tx.invitation.findUnique({
    where: { tokenHash: sha256Hex(token) },
    select: { ...invitationSelect, tenantId: true, tenant: { select: { id: true, name: true, slug: true } } },
  });
}

type FoundInvitation = NonNullable<Awaited<ReturnType<typeof unsafeFindInvitationByToken>>>;

/** The precise reason an invitation cannot be accepted by this user, or null. */
function refusal(inv: FoundInvitation, userEmail: string | null, now: Date): AppError | null {
  if (inv.revokedAt) return new AppError("INVITATION_REVOKED", "This invitation was revoked. Ask for a new one.");
  if (inv.acceptedAt) return new AppError("INVITATION_USED", "This invitation was already used. Each link works once.");
  if (inv.expiresAt.getTime() <= now.getTime()) return new AppError("INVITATION_EXPIRED", "This invitation has expired. Ask for a new one.");
  if (!userEmail || userEmail.toLowerCase() !== inv.email.toLowerCase()) {
    return new AppError(
      "INVITATION_EMAIL_MISMATCH",
      `This invitation is for ${inv.email}, but you are signed in as ${userEmail ?? "a user without an email"}. Sign in with that address.`,
    );
  }
  return null;
}

async function userEmail(userId: string): Promise<string | null> {
  const u = await db.user.findUnique({ where: { id: userId }, select: { email: true } });
  return u?.email ?? null;
}

export type InvitationStatus = "pending" | "expired" | "accepted" | "revoked";

export interface InvitationPreview {
  tenant: { name: string; slug: string };
  email: string;
  role: Role;
  expiresAt: Date;
  status: InvitationStatus;
  /** Why the caller cannot accept it (same codes `acceptInvitation` throws), or null. Null too when nobody is signed in and the link is pending. */
  problem: { code: string; message: string } | null;
}

/**
 * What the accept page shows, signed in or not: whoever holds the link may see which tenant
 * and role it is for (the token is the credential). `viewer` is the signed-in user, if any.
 */
export async function previewInvitation(viewer: UserContext | null, input: { token: string }): Promise<InvitationPreview> {
  const inv = await unsafeFindInvitationByToken(db, input.token);
  if (!inv) throw new AppError("NOT_FOUND", "Invitation not found: the link is wrong or incomplete");
  const now = new Date();
  const status: InvitationStatus = inv.revokedAt ? "revoked" : inv.acceptedAt ? "accepted" : inv.expiresAt.getTime() <= now.getTime() ? "expired" : "pending";
  const problem = viewer ? refusal(inv, await userEmail(viewer.actor.userId), now) : status === "pending" ? null : refusal(inv, inv.email, now);
  return {
    tenant: { name: inv.tenant.name, slug: inv.tenant.slug },
    email: inv.email,
    role: inv.role,
    expiresAt: inv.expiresAt,
    status,
    problem: problem ? { code: problem.code, message: problem.userMessage } : null,
  };
}

/**
 * Accepts an invitation as the signed-in user: single use (a conditional update, so two
 * concurrent accepts cannot both succeed), not expired or revoked, and only if the user's email
 * matches the invited one (case-insensitive). Creates the membership with the invited role.
 */
export async function acceptInvitation(ctx: UserContext, input: { token: string }): Promise<{ tenant: { id: string; name: string; slug: string }; role: Role }> {
  const email = await userEmail(ctx.actor.userId);
  try {
    return await db.$transaction(async (tx) => {
      const inv = await unsafeFindInvitationByToken(tx, input.token);
      if (!inv) throw new AppError("NOT_FOUND", "Invitation not found: the link is wrong or incomplete");
      const now = new Date();
      const problem = refusal(inv, email, now);
      if (problem) throw problem;
      if (!(await lockTenantForMembershipChange(tx, inv.tenantId))) throw AppError.notFound("Invitation");
      const already = await tx.membership.findUnique({ where: { tenantId_userId: { tenantId: inv.tenantId, userId: ctx.actor.userId } }, select: { role: true } });
      if (already) throw new AppError("CONFLICT", `You are already a member of ${inv.tenant.name}`);
      const claimed = await tx.invitation.updateMany({
        where: { id: inv.id, acceptedAt: null, revokedAt: null, expiresAt: { gt: now } },
        data: { acceptedAt: now, acceptedById: ctx.actor.userId },
      });
      if (claimed.count !== 1) {
        // Someone else got there first (accepted or revoked it meanwhile): report what happened.
        const now2 = await unsafeFindInvitationByToken(tx, input.token);
        throw (now2 && refusal(now2, email, new Date())) ?? new AppError("INVITATION_USED", "This invitation was already used. Each link works once.");
      }
      await tx.membership.create({ data: { tenantId: inv.tenantId, userId: ctx.actor.userId, role: inv.role } });
      const tctx = { actor: ctx.actor, tenantId: inv.tenantId, role: inv.role, meta: ctx.meta };
      await recordAudit(tx, tctx, { action: "invitation.accepted", target: { type: "invitation", id: inv.id }, after: { email: inv.email, role: inv.role } });
      await recordAudit(tx, tctx, { action: "member.added", target: { type: "user", id: ctx.actor.userId }, after: { email: inv.email, role: inv.role, via: "invitation" } });
      return { tenant: inv.tenant, role: inv.role };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError("CONFLICT", "You are already a member of this tenant");
    throw err;
  }
}
