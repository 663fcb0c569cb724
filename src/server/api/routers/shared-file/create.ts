import { createSharedFile } from "~/server/services/shared-files";
import { tenantProcedure } from "../../trpc";
import { ZCreateSharedFileRequestSchema, ZSharedFileResponseSchema } from "./shared-file.types";

export const createSharedFileRoute = tenantProcedure("file:create")
  .input(ZCreateSharedFileRequestSchema)
  .output(ZSharedFileResponseSchema)
  .mutation(({ ctx, input }) => createSharedFile(ctx.tenant, input.file));
