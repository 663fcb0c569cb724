import { createHash, randomBytes } from "node:crypto";
import type { Prisma } from "~/generated/prisma";
import type { RequestMeta } from "~/server/actor";
import type { UserActor } from "~/server/auth/session";

/** Context of a signed-in person acting outside any tenant (create a tenant, accept an invitation). */
export interface UserContext {
  actor: UserActor;
  meta: RequestMeta;
}

/** A high-entropy secret for links and keys: 32 random bytes, base64url (43 characters). */
export function newSecretToken(): string {
  return randomBytes(32).toString("base64url");
}

/** How secrets are stored: SHA-256 hex. Tokens are 256-bit random, so no salt/stretching is needed. */
export function sha256Hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

/** Whether `err` is a unique-constraint violation (Prisma P2002). */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "P2002";
}

/**
 * Serializes membership changes of one tenant: row lock on the tenant, held to commit.
 * `FOR NO KEY UPDATE` (not `FOR UPDATE`) so inserts into the tenant's child tables (audit
 * events, files), which take `FOR KEY SHARE` on the tenant for their foreign key, do not wait.
 * Returns false when the tenant does not exist (any more).
 */
export async function lockTenantForMembershipChange(tx: Prisma.TransactionClient, tenantId: string): Promise<boolean> {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT "id" FROM "Tenant" WHERE "id" = ${tenantId} FOR NO KEY UPDATE`;
  return rows.length === 1;
}
