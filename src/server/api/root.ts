import { auditRouter } from "./routers/audit/router";
import { invitationRouter } from "./routers/invitation/router";
import { meRouter } from "./routers/me/router";
import { memberRouter } from "./routers/member/router";
import { tenantRouter } from "./routers/tenant/router";
import { adminRouter } from "./routers/admin/router";
import { apiKeyRouter } from "./routers/api-key/router";
import { nodeRouter } from "./routers/node/router";
import { nodeAdminRouter } from "./routers/node-admin";
import { sharedFileRouter } from "./routers/shared-file/router";
import { fileDataRouter, routingRouter } from "./routers/routing";
import { createCallerFactory, createTRPCRouter } from "./trpc";

/**
 * The whole tRPC API. One line per router; every procedure declares its tier and permission
 * in `meta` (read by tests/integration/trpc-matrix.test.ts).
 */
export const appRouter = createTRPCRouter({
  me: meRouter,
  tenant: tenantRouter,
  member: memberRouter,
  invitation: invitationRouter,
  audit: auditRouter,
  admin: adminRouter,
  apiKey: apiKeyRouter,
  sharedFile: sharedFileRouter,
  node: nodeRouter,
  nodeAdmin: nodeAdminRouter,
  routing: routingRouter,
  fileData: fileDataRouter,
});

export type AppRouter = typeof appRouter;

/** Server-side caller: `createCaller(ctx).tenant.list()`. */
export const createCaller = createCallerFactory(appRouter);
