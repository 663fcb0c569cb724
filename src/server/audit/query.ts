import type { TAuditFilters, TAuditListInput } from "~/server/contracts/audit";
import { ZAuditListInput } from "~/server/contracts/audit";
import type { Prisma } from "~/generated/prisma";
import type { TenantContext } from "~/server/actor";
import { authorize } from "~/server/actor";
import { db } from "~/server/db";
import { AppError } from "~/server/errors";
import { decodeCursor, encodeCursor, zodFieldErrors } from "~/server/contracts/common";

export { ZAuditFilters, type TAuditFilters } from "~/server/contracts/audit";
export const ZAuditListRequest = ZAuditListInput;
export type TAuditListRequest = TAuditListInput;

/** What callers see of an event. */
export const auditEventSelect = {
  id: true,
  seq: true,
  occurredAt: true,
  actorType: true,
  actorId: true,
  actorLabel: true,
  action: true,
  targetType: true,
  targetId: true,
  ip: true,
  userAgent: true,
  requestId: true,
  before: true,
  after: true,
  outcome: true,
  hash: true,
  prevHash: true,
} satisfies Prisma.AuditEventSelect;
export type AuditEventView = Prisma.AuditEventGetPayload<{ select: typeof auditEventSelect }>;

/** Where-builder: the tenant's own chain, narrowed by the filters. */
export function auditWhere(tenantId: string, f: TAuditFilters): Prisma.AuditEventWhereInput {
  const where: Prisma.AuditEventWhereInput = { chainId: tenantId, tenantId };
  if (f.actor) where.OR = [{ actorId: f.actor }, { actorLabel: { contains: f.actor, mode: "insensitive" } }];
  if (f.actorType) where.actorType = f.actorType;
  if (f.action) where.action = f.action.endsWith(".") ? { startsWith: f.action } : f.action;
  if (f.targetType) where.targetType = f.targetType;
  if (f.targetId) where.targetId = f.targetId;
  if (f.outcome) where.outcome = f.outcome;
  if (f.from || f.to) where.occurredAt = { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lt: f.to } : {}) };
  return where;
}

/** Newest first, `limit` per page; pass `nextCursor` back to get the next (older) page. */
export async function listAuditEvents(
  ctx: TenantContext,
  input: TAuditListRequest,
): Promise<{ items: AuditEventView[]; nextCursor: string | null }> {
  authorize(ctx, "audit:read");
  const parsed = ZAuditListRequest.safeParse(input);
  if (!parsed.success) throw AppError.validation(zodFieldErrors(parsed.error));
  const { filters, cursor, limit } = parsed.data;
  const where = auditWhere(ctx.tenantId, filters);
  if (cursor) {
    const seq = Number(decodeCursor(cursor) ?? NaN);
    if (!Number.isSafeInteger(seq) || seq < 1) throw AppError.validation({ cursor: ["Invalid cursor: pass the nextCursor of a previous page"] });
    where.seq = { lt: seq };
  }
  const rows = await db.auditEvent.findMany({ where, orderBy: { seq: "desc" }, take: limit + 1, select: auditEventSelect });
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? encodeCursor(String(items[items.length - 1]!.seq)) : null };
}
