import { restHandler } from "~/server/rest/handler";
import { createFileRoute, listFilesRoute } from "~/server/rest/routes";

export const dynamic = "force-dynamic";
export const GET = restHandler(listFilesRoute);
export const POST = restHandler(createFileRoute);
