import { restHandler } from "~/server/rest/handler";
import { listNodesRoute } from "~/server/rest/routes";

export const dynamic = "force-dynamic";
export const GET = restHandler(listNodesRoute);
