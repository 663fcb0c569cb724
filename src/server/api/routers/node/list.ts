import { listNodes } from "~/server/services/nodes";
import { tenantProcedure } from "../../trpc";
import { ZListNodesRequestSchema, ZListNodesResponseSchema } from "./node.types";

export const listNodesRoute = tenantProcedure("node:read")
  .input(ZListNodesRequestSchema)
  .output(ZListNodesResponseSchema)
  .query(({ ctx, input }) => listNodes(ctx.tenant, input));
