import { restHandler } from "~/server/rest/handler";
import { deleteFileRoute, getFileRoute, updateFileRoute } from "~/server/rest/routes";

export const dynamic = "force-dynamic";
export const GET = restHandler(getFileRoute);
export const PATCH = restHandler(updateFileRoute);
export const DELETE = restHandler(deleteFileRoute);
