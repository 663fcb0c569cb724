import { z } from "zod";
import { ZAuditListInput } from "~/server/contracts/audit";

export const ZListAuditRequestSchema = ZAuditListInput;

export const ZAuditEventSchema = z.object({
  id: z.string(),
  seq: z.number().int(),
  occurredAt: z.date(),
  actorType: z.enum(["USER", "API_KEY", "NODE", "SYSTEM", "ANONYMOUS"]),
  actorId: z.string().nullable(),
  actorLabel: z.string().nullable(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  requestId: z.string().nullable(),
  before: z.unknown(),
  after: z.unknown(),
  outcome: z.enum(["SUCCESS", "DENIED", "FAILURE"]),
  hash: z.string(),
  prevHash: z.string(),
});

export const ZListAuditResponseSchema = z.object({
  items: z.array(ZAuditEventSchema),
  nextCursor: z.string().nullable(),
});

export const ZVerifyAuditResponseSchema = z.object({
  chainId: z.string(),
  ok: z.boolean(),
  checked: z.number().int(),
  headSeq: z.number().int(),
  anchorSeq: z.number().int(),
  purged: z.number().int(),
  firstBroken: z
    .object({
      seq: z.number().int(),
      id: z.string(),
      reason: z.enum(["hash_mismatch", "prev_hash_mismatch", "seq_gap", "head_mismatch"]),
      expected: z.string(),
      actual: z.string(),
    })
    .nullable(),
});
