import { createTRPCRouter } from "../../trpc";
import { createApiKeyRoute } from "./create";
import { listApiKeysRoute } from "./list";
import { revokeApiKeyRoute } from "./revoke";

export const apiKeyRouter = createTRPCRouter({
  list: listApiKeysRoute,
  create: createApiKeyRoute,
  revoke: revokeApiKeyRoute,
});
