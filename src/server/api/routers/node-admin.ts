/**
 * Node administration over tRPC: join tokens, revoke, drain, tenant worker settings (versioned,
 * rollback) and live attachments. Thin: every procedure calls the node-join service, which
 * authorizes and audits.
 */
import { z } from "zod";
import { createTRPCRouter, tenantProcedure } from "~/server/api/trpc";
import { LabelsSchema } from "~/server/contracts/worker";
import {
  createJoinToken,
  drainNode,
  getWorkerSettings,
  listAttachments,
  revokeJoinToken,
  revokeNode,
  rollbackWorkerSettings,
  updateWorkerSettings,
} from "~/server/services/node-join";

/** Base URL printed in the join command: the control plane's public URL. */
function controlPlaneUrl(): string {
  return process.env.NEXTAUTH_URL ?? "http://localhost:3000";
}

export const nodeAdminRouter = createTRPCRouter({
  createJoinToken: tenantProcedure("node:manage")
    .input(z.object({ labels: LabelsSchema.optional() }))
    .mutation(({ ctx, input }) => createJoinToken(ctx.tenant, { labels: input.labels, controlPlaneUrl: controlPlaneUrl() })),
  revokeJoinToken: tenantProcedure("node:manage")
    .input(z.object({ id: z.string().min(1).max(64) }))
    .mutation(({ ctx, input }) => revokeJoinToken(ctx.tenant, input)),
  revoke: tenantProcedure("node:manage")
    .input(z.object({ nodeId: z.string().min(1).max(64) }))
    .mutation(({ ctx, input }) => revokeNode(ctx.tenant, input)),
  drain: tenantProcedure("node:manage")
    .input(z.object({ nodeId: z.string().min(1).max(64), drain: z.boolean().default(true) }))
    .mutation(({ ctx, input }) => drainNode(ctx.tenant, input)),
  settingsGet: tenantProcedure("settings:read").query(({ ctx }) => getWorkerSettings(ctx.tenant)),
  settingsUpdate: tenantProcedure("settings:update")
    .input(z.object({ settings: z.record(z.string(), z.unknown()) }))
    .mutation(({ ctx, input }) => updateWorkerSettings(ctx.tenant, input.settings)),
  settingsRollback: tenantProcedure("settings:update")
    .input(z.object({ version: z.number().int().positive() }))
    .mutation(({ ctx, input }) => rollbackWorkerSettings(ctx.tenant, input)),
  attachments: tenantProcedure("node:read")
    .input(z.object({ sharedFileId: z.string().max(64).optional(), nodeId: z.string().max(64).optional() }))
    .query(({ ctx, input }) => listAttachments(ctx.tenant, input)),
});
