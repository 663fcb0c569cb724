import { restHandler } from "~/server/rest/handler";
import { getFileRoutesRoute } from "~/server/rest/routes";

export const dynamic = "force-dynamic";
export const GET = restHandler(getFileRoutesRoute);
