import { restHandler } from "~/server/rest/handler";
import { listMembersRoute } from "~/server/rest/routes";

export const dynamic = "force-dynamic";
export const GET = restHandler(listMembersRoute);
