import { z } from "zod";
import { ZTenant } from "~/server/contracts/tenant";

export const ZAdminTenantsResponseSchema = z.array(ZTenant.extend({ members: z.number().int() }));
export const ZPurgeAuditResponseSchema = z.array(z.object({ tenantId: z.string(), purged: z.number().int() }));
