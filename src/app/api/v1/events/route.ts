import { restHandler } from "~/server/rest/handler";
import { eventFeedRoute } from "~/server/rest/routes";

export const dynamic = "force-dynamic";
export const GET = restHandler(eventFeedRoute);
