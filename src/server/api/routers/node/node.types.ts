import { z } from "zod";
import { ZPage } from "~/server/contracts/common";
import { ZNode, ZNodeListQuery } from "~/server/contracts/node";

export const ZListNodesRequestSchema = ZNodeListQuery;
export const ZListNodesResponseSchema = ZPage(ZNode);
export const ZGetNodeRequestSchema = z.object({ nodeId: z.string().min(1).max(64) });
export const ZGetNodeResponseSchema = ZNode;
