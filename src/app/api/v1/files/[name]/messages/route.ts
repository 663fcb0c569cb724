import { restHandler } from "~/server/rest/handler";
import { publishMessageRoute, readMessagesRoute } from "~/server/rest/routes";

export const dynamic = "force-dynamic";
export const GET = restHandler(readMessagesRoute);
export const POST = restHandler(publishMessageRoute);
