/**
 * Tenants, members and invitations: input and output shapes shared by tRPC, REST and the UI.
 * Pure module (zod only).
 */
import { z } from "zod";
import { ROLES } from "~/server/auth/permissions";

export const ZRole = z.enum(ROLES).meta({ description: "Role in the tenant: OWNER, ADMIN, OPERATOR or VIEWER." });

export const ZTenantName = z
  .string()
  .trim()
  .min(2, "Use at least 2 characters")
  .max(64, "Use at most 64 characters")
  .meta({ description: "Display name of the tenant.", example: "Acme Robotics" });

export const TENANT_SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;

export const ZTenantSlug = z
  .string()
  .trim()
  .toLowerCase()
  .min(2, "Use at least 2 characters")
  .max(48, "Use at most 48 characters")
  .regex(TENANT_SLUG_PATTERN, "Use lowercase letters, digits and '-', starting and ending with a letter or digit")
  .meta({ description: "URL name of the tenant, unique on the platform.", example: "acme" });

export const ZCreateTenantInput = z.object({
  name: ZTenantName,
  /** Derived from the name when omitted. */
  slug: ZTenantSlug.optional(),
});
export type TCreateTenantInput = z.infer<typeof ZCreateTenantInput>;

export const ZRenameTenantInput = z.object({ name: ZTenantName });
export type TRenameTenantInput = z.infer<typeof ZRenameTenantInput>;

export const ZTenantSettingsInput = z.object({
  auditRetentionDays: z
    .number()
    .int("Use a whole number of days")
    .min(7, "Keep audit events at least 7 days")
    .max(3650, "At most 3650 days (10 years)"),
});
export type TTenantSettingsInput = z.infer<typeof ZTenantSettingsInput>;

export const ZDeleteTenantInput = z.object({
  /** The tenant's slug or name, typed by the user to confirm. */
  confirm: z.string().trim().min(1, "Type the tenant's slug to confirm"),
});
export type TDeleteTenantInput = z.infer<typeof ZDeleteTenantInput>;

export const ZTenant = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  auditRetentionDays: z.number().int(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type TTenant = z.infer<typeof ZTenant>;

// ---------------------------------------------------------------------------
// Members
// ---------------------------------------------------------------------------

export const ZMemberTargetInput = z.object({ userId: z.string().min(1).max(64) });

export const ZChangeRoleInput = ZMemberTargetInput.extend({ role: ZRole });
export type TChangeRoleInput = z.infer<typeof ZChangeRoleInput>;

export const ZMember = z.object({
  id: z.string(),
  userId: z.string(),
  role: ZRole,
  createdAt: z.date(),
  user: z.object({ id: z.string(), name: z.string().nullable(), email: z.string().nullable(), image: z.string().nullable() }),
});
export type TMember = z.infer<typeof ZMember>;

// ---------------------------------------------------------------------------
// Invitations
// ---------------------------------------------------------------------------

export const INVITATION_TTL_DAYS = 7;

export const ZCreateInvitationInput = z.object({
  email: z
    .string()
    .trim()
    .toLowerCase()
    .max(254, "Use at most 254 characters")
    .pipe(z.email("Enter an email address like ada@example.com")),
  role: ZRole,
});
export type TCreateInvitationInput = z.infer<typeof ZCreateInvitationInput>;

export const ZInvitationToken = z
  .string()
  .trim()
  .min(20, "This invitation link is incomplete")
  .max(200, "This invitation link is not valid")
  .regex(/^[A-Za-z0-9_-]+$/, "This invitation link is not valid");

export const ZInvitationTokenInput = z.object({ token: ZInvitationToken });

export const ZInvitationIdInput = z.object({ invitationId: z.string().min(1).max(64) });

export const ZInvitation = z.object({
  id: z.string(),
  email: z.string(),
  role: ZRole,
  expiresAt: z.date(),
  acceptedAt: z.date().nullable(),
  revokedAt: z.date().nullable(),
  createdAt: z.date(),
  invitedById: z.string().nullable(),
});
export type TInvitation = z.infer<typeof ZInvitation>;

/**
 * "Acme Robotics, Inc." → "acme-robotics-inc" (may be empty for names without a-z/0-9).
 * Shared by the service and the create form, so the form previews the slug the server derives.
 */
export function slugify(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/g, "");
}
