import type { Actor, RequestMeta, TenantContext } from "~/server/actor";
import { db } from "~/server/db";
import { AppError } from "~/server/errors";

/**
 * Turns an unverified tenant id (from input, a URL or a header) into a verified
 * `TenantContext` for `actor`, or NOT_FOUND:
 * - USER: must have a membership in the tenant; the role comes from it (never from input);
 * - API_KEY / NODE: the key or node must belong to the tenant;
 * - SYSTEM: trusted (jobs).
 * "Not a member" and "no such tenant" give the same NOT_FOUND on purpose: ids of other
 * tenants must not be discoverable. Platform admins get no implicit membership here.
 */
export async function resolveTenantContext(actor: Actor, tenantId: string, meta: RequestMeta): Promise<TenantContext> {
  switch (actor.type) {
    case "USER": {
      const membership = await db.membership.findUnique({
        where: { tenantId_userId: { tenantId, userId: actor.userId } },
        select: { role: true },
      });
      if (!membership) throw AppError.notFound("Tenant");
      return { actor, tenantId, role: membership.role, meta };
    }
    case "API_KEY":
    case "NODE":
      if (actor.tenantId !== tenantId) throw AppError.notFound("Tenant");
      return { actor, tenantId, role: null, meta };
    case "SYSTEM":
      return { actor, tenantId, role: null, meta };
  }
}
