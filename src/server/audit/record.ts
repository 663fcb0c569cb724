import { Prisma } from "~/generated/prisma";
import type { Actor, RequestMeta } from "~/server/actor";
import type { AuditAction } from "./actions";
import { PLATFORM_CHAIN } from "./actions";
import { GENESIS_HASH, hashAuditEvent, normalizeJson } from "./canonical";

/** Someone we could not identify (e.g. a request with an unknown API key). */
export interface AnonymousActor {
  type: "ANONYMOUS";
  label: string;
}

/**
 * Who did it, for which tenant, from where. A `TenantContext` is one; so is
 * `{ actor, tenantId: null, meta }` for platform events (no tenant, or the tenant is gone).
 */
export interface AuditContext {
  actor: Actor | AnonymousActor;
  tenantId: string | null;
  meta: RequestMeta;
}

export interface AuditEventInput {
  action: AuditAction;
  target?: { type: string; id: string } | null;
  /** State before the change, where it matters (e.g. the old role). JSON-serializable. */
  before?: unknown;
  /** State after the change. Never put secrets here: the log is exported. */
  after?: unknown;
  /** Defaults to SUCCESS. DENIED for refused attempts worth recording (failed auth). */
  outcome?: "SUCCESS" | "DENIED" | "FAILURE";
}

export interface RecordedAuditEvent {
  id: string;
  chainId: string;
  seq: number;
  hash: string;
}

function actorColumns(actor: Actor | AnonymousActor): { actorType: Prisma.AuditEventCreateInput["actorType"]; actorId: string | null; actorLabel: string } {
  switch (actor.type) {
    case "USER":
      return { actorType: "USER", actorId: actor.userId, actorLabel: actor.label };
    case "API_KEY":
      return { actorType: "API_KEY", actorId: actor.apiKeyId, actorLabel: actor.label };
    case "NODE":
      return { actorType: "NODE", actorId: actor.nodeId, actorLabel: actor.label };
    case "SYSTEM":
      return { actorType: "SYSTEM", actorId: null, actorLabel: actor.label };
    case "ANONYMOUS":
      return { actorType: "ANONYMOUS", actorId: null, actorLabel: actor.label };
  }
}

/**
 * Locks the head row of `chainId` for the rest of the transaction, creating it on first use,
 * and returns it.
 *
 * Concurrency: `INSERT ... ON CONFLICT DO NOTHING` makes the row exist (two first writers
 * serialize on the primary key), then `SELECT ... FOR UPDATE` takes the row lock. Every
 * appender goes through here, so appends to one chain are strictly one after another: the
 * second transaction reads the head only after the first committed (READ COMMITTED re-reads
 * the locked row), and the chain cannot fork. Different tenants' chains do not contend.
 */
export async function lockChainHead(
  tx: Prisma.TransactionClient,
  chainId: string,
): Promise<{ seq: number; hash: string; anchorSeq: number; anchorHash: string; purged: number }> {
  await tx.$executeRaw`
    INSERT INTO "AuditChainHead" ("chainId", "seq", "hash", "anchorSeq", "anchorHash", "purged", "updatedAt")
    VALUES (${chainId}, 0, ${GENESIS_HASH}, 0, ${GENESIS_HASH}, 0, now())
    ON CONFLICT ("chainId") DO NOTHING`;
  const rows = await tx.$queryRaw<{ seq: number; hash: string; anchorSeq: number; anchorHash: string; purged: number }[]>`
    SELECT "seq", "hash", "anchorSeq", "anchorHash", "purged" FROM "AuditChainHead" WHERE "chainId" = ${chainId} FOR UPDATE`;
  const head = rows[0];
  if (!head) throw new Error(`audit chain head ${chainId} vanished while locking`);
  return head;
}

/**
 * Appends one event to the audit chain of `ctx.tenantId` (or the platform chain when null),
 * INSIDE the caller's transaction: the event commits or rolls back with the change it
 * describes. Call it last in the transaction when you can: the chain head stays locked from
 * here until commit, and other writers of the same tenant wait for it.
 */
export async function recordAudit(tx: Prisma.TransactionClient, ctx: AuditContext, event: AuditEventInput): Promise<RecordedAuditEvent> {
  const chainId = ctx.tenantId ?? PLATFORM_CHAIN;
  const head = await lockChainHead(tx, chainId);
  const seq = head.seq + 1;
  // Taken after the lock, so time never goes backwards along the chain.
  const occurredAt = new Date();
  const before = normalizeJson(event.before);
  const after = normalizeJson(event.after);
  const fields = {
    chainId,
    seq,
    tenantId: ctx.tenantId,
    occurredAt,
    ...actorColumns(ctx.actor),
    action: event.action,
    targetType: event.target?.type ?? null,
    targetId: event.target?.id ?? null,
    ip: ctx.meta.ip ?? null,
    userAgent: ctx.meta.userAgent ? ctx.meta.userAgent.slice(0, 512) : null,
    requestId: ctx.meta.requestId ?? null,
    outcome: event.outcome ?? "SUCCESS",
    prevHash: head.hash,
  } as const;
  const hash = hashAuditEvent({ ...fields, before, after });
  const created = await tx.auditEvent.create({
    data: {
      ...fields,
      before: before === null ? Prisma.DbNull : (before as Prisma.InputJsonValue),
      after: after === null ? Prisma.DbNull : (after as Prisma.InputJsonValue),
      hash,
    },
    select: { id: true },
  });
  await tx.auditChainHead.update({ where: { chainId }, data: { seq, hash } });
  return { id: created.id, chainId, seq, hash };
}
