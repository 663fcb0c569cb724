import { z } from "zod";
import { ZName, ZPage, ZPageQuery } from "~/server/contracts/common";
import { ZSharedFile, type TSharedFileCreateInput, type ZSharedFilePatch } from "~/server/contracts/shared-file";

/**
 * The file model travels nested (`{ tenantId, file }`), typed but validated by the service with
 * `ZSharedFileCreate`/`ZSharedFilePatch` (strict schemas, which would reject the merged
 * `tenantId`). The service's field errors then carry the model's own paths (`layout.slots.0.name`),
 * exactly as REST reports them, so forms map them to fields directly.
 */
const isObject = (v: unknown): boolean => typeof v === "object" && v !== null && !Array.isArray(v);

export const ZListSharedFilesRequestSchema = ZPageQuery;
export const ZListSharedFilesResponseSchema = ZPage(ZSharedFile);
export const ZSharedFileByNameRequestSchema = z.object({ name: ZName });
export const ZSharedFileResponseSchema = ZSharedFile;
export const ZCreateSharedFileRequestSchema = z.object({ file: z.custom<TSharedFileCreateInput>(isObject, "Expected the file as an object") });
export const ZUpdateSharedFileRequestSchema = z.object({
  name: ZName,
  patch: z.custom<z.input<typeof ZSharedFilePatch>>(isObject, "Expected the changes as an object"),
});
export const ZDeleteSharedFileRequestSchema = z.object({ name: ZName, revision: z.number().int().min(1).optional() });
