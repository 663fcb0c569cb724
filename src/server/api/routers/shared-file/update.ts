import { updateSharedFile } from "~/server/services/shared-files";
import { tenantProcedure } from "../../trpc";
import { ZSharedFileResponseSchema, ZUpdateSharedFileRequestSchema } from "./shared-file.types";

/** `patch.revision` must be the revision last read: a stale one is CONFLICT (field `revision`). */
export const updateSharedFileRoute = tenantProcedure("file:update")
  .input(ZUpdateSharedFileRequestSchema)
  .output(ZSharedFileResponseSchema)
  .mutation(({ ctx, input }) => updateSharedFile(ctx.tenant, input.name, input.patch));
