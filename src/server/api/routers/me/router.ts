import { createTRPCRouter } from "../../trpc";
import { getMeRoute } from "./get";

export const meRouter = createTRPCRouter({
  get: getMeRoute,
});
