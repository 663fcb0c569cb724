/** Audit log filters and event shape, shared by tRPC, REST, export and the UI. Pure (zod only). */
import { z } from "zod";

export const ZAuditFilters = z
  .object({
    /** Actor id (user, key, node) exactly, or a case-insensitive part of the actor's label (email, key name). */
    actor: z.string().trim().min(1).max(200).optional(),
    actorType: z.enum(["USER", "API_KEY", "NODE", "SYSTEM", "ANONYMOUS"]).optional(),
    /** An action (`member.role_changed`) or a prefix ending in a dot (`member.`). */
    action: z
      .string()
      .trim()
      .regex(/^[a-z_]+(\.[a-z_]*)?$/, "Use an action like member.role_changed, or a prefix like member.")
      .optional(),
    targetType: z.string().trim().min(1).max(100).optional(),
    targetId: z.string().trim().min(1).max(200).optional(),
    outcome: z.enum(["SUCCESS", "DENIED", "FAILURE"]).optional(),
    /** Inclusive lower bound of occurredAt. */
    from: z.coerce.date().optional(),
    /** Exclusive upper bound of occurredAt. */
    to: z.coerce.date().optional(),
  })
  .refine((f) => !f.from || !f.to || f.from < f.to, { message: "Must be after the start", path: ["to"] });
export type TAuditFilters = z.infer<typeof ZAuditFilters>;

export const ZAuditListInput = z.object({
  filters: ZAuditFilters.default({}),
  /** The `nextCursor` of the previous page (opaque). */
  cursor: z.string().max(512).nullish(),
  limit: z.number().int().min(1).max(200).default(50),
});
export type TAuditListInput = z.input<typeof ZAuditListInput>;

export const AUDIT_EXPORT_FORMATS = ["csv", "jsonl"] as const;
export const ZAuditExportFormat = z.enum(AUDIT_EXPORT_FORMATS);
