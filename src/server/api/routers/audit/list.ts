import { listAuditEvents } from "~/server/audit/query";
import { tenantProcedure } from "../../trpc";
import { ZListAuditRequestSchema, ZListAuditResponseSchema } from "./audit.types";

/** Newest first, filtered by actor, action (or prefix), target, outcome and time; cursor pagination. */
export const listAuditRoute = tenantProcedure("audit:read")
  .input(ZListAuditRequestSchema)
  .output(ZListAuditResponseSchema)
  .query(({ ctx, input }) => listAuditEvents(ctx.tenant, input));
