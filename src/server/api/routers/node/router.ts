import { createTRPCRouter } from "../../trpc";
import { getNodeRoute } from "./get";
import { listNodesRoute } from "./list";

export const nodeRouter = createTRPCRouter({
  list: listNodesRoute,
  get: getNodeRoute,
});
