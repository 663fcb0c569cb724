import type { PrismaClient } from "~/generated/prisma";
import { lockChainHead, recordAudit } from "./record";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Retention purge of one tenant's chain: deletes events older than `cutoff` and moves the
 * chain's anchor to the last deleted event, so what remains still verifies (the first kept
 * event points at the anchor hash). Then records `audit.purged` (actor SYSTEM) with how many
 * events went and the anchor, in the same transaction.
 *
 * Events are purged as a prefix of the chain (everything up to the newest expired seq), never
 * from the middle: since events are appended in time order, that is exactly the expired set.
 * The chain head is locked for the whole purge, so concurrent appends wait and cannot fork.
 */
export async function purgeTenantAudit(db: PrismaClient, tenantId: string, cutoff: Date): Promise<number> {
  return db.$transaction(async (tx) => {
    const head = await lockChainHead(tx, tenantId);
    const lastExpired = await tx.auditEvent.findFirst({
      where: { chainId: tenantId, occurredAt: { lt: cutoff } },
      orderBy: { seq: "desc" },
      select: { seq: true, hash: true },
    });
    if (!lastExpired) return 0;
    const { count } = await tx.auditEvent.deleteMany({ where: { chainId: tenantId, seq: { lte: lastExpired.seq } } });
    await tx.auditChainHead.update({
      where: { chainId: tenantId },
      data: { anchorSeq: lastExpired.seq, anchorHash: lastExpired.hash, purged: head.purged + count },
    });
    await recordAudit(
      tx,
      { actor: { type: "SYSTEM", label: "audit retention" }, tenantId, meta: { requestId: `retention-${Date.now()}` } },
      {
        action: "audit.purged",
        target: { type: "tenant", id: tenantId },
        after: { purged: count, before: cutoff.toISOString(), anchorSeq: lastExpired.seq, anchorHash: lastExpired.hash },
      },
    );
    return count;
  });
}

/**
 * Runs retention for every tenant (`Tenant.auditRetentionDays`). Safe to run on several
 * replicas at once: each tenant's purge holds its chain head lock.
 */
export async function purgeExpiredAuditEvents(db: PrismaClient, now = new Date()): Promise<{ tenantId: string; purged: number }[]> {
  // Unscoped by design: a system job over all tenants.
  const tenants = await db.tenant.findMany({ select: { id: true, auditRetentionDays: true } });
  const results: { tenantId: string; purged: number }[] = [];
  for (const t of tenants) {
    const purged = await purgeTenantAudit(db, t.id, new Date(now.getTime() - t.auditRetentionDays * DAY_MS));
    if (purged > 0) results.push({ tenantId: t.id, purged });
  }
  return results;
}
