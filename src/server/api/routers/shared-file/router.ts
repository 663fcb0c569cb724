import { createTRPCRouter } from "../../trpc";
import { createSharedFileRoute } from "./create";
import { deleteSharedFileRoute } from "./delete";
import { getSharedFileRoute } from "./get";
import { listSharedFilesRoute } from "./list";
import { updateSharedFileRoute } from "./update";

export const sharedFileRouter = createTRPCRouter({
  list: listSharedFilesRoute,
  get: getSharedFileRoute,
  create: createSharedFileRoute,
  update: updateSharedFileRoute,
  delete: deleteSharedFileRoute,
});
