import { z } from "zod";
import { PERMISSIONS } from "~/server/auth/permissions";
import { ZRole } from "~/server/contracts/tenant";

const ZPermission = z.enum(PERMISSIONS);

export const ZGetMeResponseSchema = z.object({
  user: z.object({ id: z.string(), name: z.string().nullable(), email: z.string().nullable(), image: z.string().nullable(), isPlatformAdmin: z.boolean() }),
  memberships: z.array(
    z.object({
      tenantId: z.string(),
      role: ZRole,
      tenant: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
      permissions: z.array(ZPermission),
    }),
  ),
});
export type TGetMeResponse = z.infer<typeof ZGetMeResponseSchema>;
