import type { TenantContext } from "~/server/actor";
import { authorize } from "~/server/actor";
import { recordAudit } from "~/server/audit/record";
import type { ChainVerification } from "~/server/audit/verify";
import { verifyChain } from "~/server/audit/verify";
import { db } from "~/server/db";

/**
 * Verifies the tenant's audit chain and records the outcome (`audit.verified`, FAILURE when a
 * link is broken) so that checks, and their results, are themselves on the record.
 */
export async function verifyTenantAuditChain(ctx: TenantContext): Promise<ChainVerification> {
  authorize(ctx, "audit:verify");
  const result = await verifyChain(db, ctx.tenantId);
  await db.$transaction((tx) =>
    recordAudit(tx, ctx, {
      action: "audit.verified",
      target: { type: "tenant", id: ctx.tenantId },
      outcome: result.ok ? "SUCCESS" : "FAILURE",
      after: { ok: result.ok, checked: result.checked, headSeq: result.headSeq, firstBroken: result.firstBroken },
    }),
  );
  return result;
}

export { listAuditEvents } from "~/server/audit/query";
export { exportAuditEvents, exportAuditStream } from "~/server/audit/export";
