import { z } from "zod";
import { ZCreateTenantInput, ZDeleteTenantInput, ZRenameTenantInput, ZRole, ZTenant, ZTenantSettingsInput } from "~/server/contracts/tenant";

export const ZCreateTenantRequestSchema = ZCreateTenantInput;
export const ZCreateTenantResponseSchema = ZTenant;

export const ZListTenantsResponseSchema = z.array(ZTenant.extend({ role: ZRole }));

export const ZGetTenantResponseSchema = ZTenant;

export const ZRenameTenantRequestSchema = ZRenameTenantInput;
export const ZUpdateTenantSettingsRequestSchema = ZTenantSettingsInput;

export const ZDeleteTenantRequestSchema = ZDeleteTenantInput;
export const ZDeleteTenantResponseSchema = z.object({ id: z.string(), slug: z.string() });
