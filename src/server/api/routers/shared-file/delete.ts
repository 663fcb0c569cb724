import { deleteSharedFile } from "~/server/services/shared-files";
import { tenantProcedure } from "../../trpc";
import { ZDeleteSharedFileRequestSchema, ZSharedFileResponseSchema } from "./shared-file.types";

/** Returns the deleted file. With `revision`, deletes only that revision (CONFLICT otherwise). */
export const deleteSharedFileRoute = tenantProcedure("file:delete")
  .input(ZDeleteSharedFileRequestSchema)
  .output(ZSharedFileResponseSchema)
  .mutation(({ ctx, input }) => deleteSharedFile(ctx.tenant, input.name, { revision: input.revision }));
