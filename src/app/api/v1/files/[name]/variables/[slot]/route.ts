import { restHandler } from "~/server/rest/handler";
import { readVariableRoute, writeVariableRoute } from "~/server/rest/routes";

export const dynamic = "force-dynamic";
export const GET = restHandler(readVariableRoute);
export const POST = restHandler(writeVariableRoute);
