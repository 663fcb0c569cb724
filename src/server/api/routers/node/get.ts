import { getNode } from "~/server/services/nodes";
import { tenantProcedure } from "../../trpc";
import { ZGetNodeRequestSchema, ZGetNodeResponseSchema } from "./node.types";

export const getNodeRoute = tenantProcedure("node:read")
  .input(ZGetNodeRequestSchema)
  .output(ZGetNodeResponseSchema)
  .query(({ ctx, input }) => getNode(ctx.tenant, input.nodeId));
