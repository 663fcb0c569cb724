import type { RequestMeta } from "~/server/actor";
import { recordAudit } from "~/server/audit/record";
import { userActor } from "~/server/auth/session";
import { db } from "~/server/db";

/**
 * Audits a sign-in or sign-out.
 *
 * Where it goes (decision): into the chain of EACH tenant the user belongs to, so every
 * tenant's admins see when their members sign in and out; and into the platform chain when the
 * user belongs to no tenant yet (a first sign-in), so no sign-in goes unrecorded. One
 * transaction per chain: a sign-in is not a multi-tenant atomic change, and taking several
 * chain-head locks in one transaction would invite lock-order deadlocks.
 */
export async function auditSessionEvent(
  action: "auth.signed_in" | "auth.signed_out",
  userId: string,
  meta: RequestMeta,
  details: { provider?: string; isNewUser?: boolean } = {},
): Promise<void> {
  const user = await db.user.findUnique({
    where: { id: userId },
    select: { id: true, name: true, email: true, isPlatformAdmin: true, memberships: { select: { tenantId: true } } },
  });
  if (!user) return;
  const actor = userActor(user);
  const chains: (string | null)[] = user.memberships.length > 0 ? user.memberships.map((m) => m.tenantId) : [null];
  for (const tenantId of chains) {
    await db.$transaction((tx) =>
      recordAudit(tx, { actor, tenantId, meta }, { action, target: { type: "user", id: user.id }, after: details }),
    );
  }
}
