/**
 * Cross-node routing over tRPC: transport decisions per file and node (with reason and inputs),
 * the stats history behind the dashboard's charts, a node's routes, dead letters, and the data
 * API through Redis (read/write variables, publish, read the stream). Thin: every procedure
 * calls the same service as the REST route.
 */
import { z } from "zod";
import { createTRPCRouter, tenantProcedure } from "~/server/api/trpc";
import { ZName } from "~/server/contracts/common";
import { ZMessagePublish, ZMessagesQuery, ZVariableWrite } from "~/server/contracts/routing";
import { listDeadLetters, publishMessage, readMessages, readVariable, writeVariable } from "~/server/services/file-data";
import { HISTORY_MS, getFileRouteHistory, getFileRoutes, getNodeRoutes } from "~/server/services/file-routes";
import { latestFeedEvents } from "~/server/services/event-feed";

const ZSlot = z.string().min(1).max(40);

export const routingRouter = createTRPCRouter({
  fileRoutes: tenantProcedure("file:read")
    .input(z.object({ name: ZName }))
    .query(({ ctx, input }) => getFileRoutes(ctx.tenant, input.name)),
  fileHistory: tenantProcedure("file:read")
    .input(z.object({ name: ZName, sinceMs: z.number().int().min(1000).max(HISTORY_MS).optional() }))
    .query(({ ctx, input }) => getFileRouteHistory(ctx.tenant, input.name, input.sinceMs)),
  nodeRoutes: tenantProcedure("node:read")
    .input(z.object({ nodeId: z.string().min(1).max(64) }))
    .query(({ ctx, input }) => getNodeRoutes(ctx.tenant, input.nodeId)),
  deadLetters: tenantProcedure("file:data:read")
    .input(z.object({ name: ZName, limit: z.number().int().min(1).max(200).default(50) }))
    .query(({ ctx, input }) => listDeadLetters(ctx.tenant, input.name, input.limit)),
  recentEvents: tenantProcedure("audit:read")
    .input(z.object({ limit: z.number().int().min(1).max(100).default(20) }))
    .query(({ ctx, input }) => latestFeedEvents(ctx.tenant, input.limit)),
});

export const fileDataRouter = createTRPCRouter({
  readVariable: tenantProcedure("file:data:read")
    .input(z.object({ name: ZName, slot: ZSlot }))
    .query(({ ctx, input }) => readVariable(ctx.tenant, input.name, input.slot)),
  writeVariable: tenantProcedure("file:data:write")
    .input(ZVariableWrite.extend({ name: ZName, slot: ZSlot }))
    .mutation(({ ctx, input }) => writeVariable(ctx.tenant, input.name, input.slot, { value: input.value, base64: input.base64 })),
  publish: tenantProcedure("file:data:write")
    .input(ZMessagePublish.extend({ name: ZName }))
    .mutation(({ ctx, input }) => publishMessage(ctx.tenant, input.name, { value: input.value, base64: input.base64, subject: input.subject })),
  readMessages: tenantProcedure("file:data:read")
    .input(ZMessagesQuery.extend({ name: ZName, limit: z.number().int().min(1).max(500).default(100) }))
    .query(({ ctx, input }) => readMessages(ctx.tenant, input.name, input)),
});
