import { getSharedFile } from "~/server/services/shared-files";
import { tenantProcedure } from "../../trpc";
import { ZSharedFileByNameRequestSchema, ZSharedFileResponseSchema } from "./shared-file.types";

export const getSharedFileRoute = tenantProcedure("file:read")
  .input(ZSharedFileByNameRequestSchema)
  .output(ZSharedFileResponseSchema)
  .query(({ ctx, input }) => getSharedFile(ctx.tenant, input.name));
