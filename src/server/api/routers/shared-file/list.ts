import { listSharedFiles } from "~/server/services/shared-files";
import { tenantProcedure } from "../../trpc";
import { ZListSharedFilesRequestSchema, ZListSharedFilesResponseSchema } from "./shared-file.types";

export const listSharedFilesRoute = tenantProcedure("file:read")
  .input(ZListSharedFilesRequestSchema)
  .output(ZListSharedFilesResponseSchema)
  .query(({ ctx, input }) => listSharedFiles(ctx.tenant, input));
