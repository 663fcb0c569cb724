import { restHandler } from "~/server/rest/handler";
import { listDeadLettersRoute } from "~/server/rest/routes";

export const dynamic = "force-dynamic";
export const GET = restHandler(listDeadLettersRoute);
