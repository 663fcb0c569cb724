/**
 * Transport decisions reported by workers (`PUT /api/worker/routes`) and what the API and the
 * dashboard read of them: "why does this file use the network?", per node, with the reason and
 * the inputs the decision was made from, plus a short stats history for the charts.
 *
 * A report is the node's complete current set (full replacement, like attachments): routes of
 * files it no longer reports are removed. Files of other tenants are ignored. Decision changes
 * are audited in the same transaction: `transport.selected` (a new route), `transport.switched`
 * (the transport changed), `transport.failed` (the route became refused or degraded). Stats-only
 * updates are not audited (they arrive about once a second).
 *
 * History: every report adds one sample per route (`FileRouteSample`) and drops that node's
 * samples older than HISTORY_MS, so the table stays small whatever the uptime.
 */
import { Prisma } from "~/generated/prisma";
import type { Actor, RequestMeta, TenantContext } from "~/server/actor";
import { authorize } from "~/server/actor";
import { recordAudit } from "~/server/audit";
import type { TFileRoute, TFileRoutes, TRouteSample, TRouteStats } from "~/server/contracts/routing";
import type { RouteReport } from "~/server/contracts/worker";
import { db } from "~/server/db";
import { AppError } from "~/server/errors";
import { keyMayAccessFile } from "./api-keys";
import type { AuthenticatedNode } from "./node-join";

/** How much stats history is kept per node (and what the charts can show). */
export const HISTORY_MS = 10 * 60 * 1000;

const STATUS_TO_DB = { ok: "OK", degraded: "DEGRADED", refused: "REFUSED" } as const;
const STATUS_FROM_DB = { OK: "ok", DEGRADED: "degraded", REFUSED: "refused" } as const;
type DbStatus = keyof typeof STATUS_FROM_DB;

function nodeActor(node: AuthenticatedNode): Actor {
  return { type: "NODE", nodeId: node.nodeId, tenantId: node.tenantId, label: node.name };
}

/** What the audit events say about a decision (no stats: they change every second). */
function decisionOf(r: { transport: string | null; status: string; reasonCode: string; reason: string; remotePeers: string[]; colocatedPeers: string[]; degradedPeers: string[]; warnings: string[] }) {
  return {
    transport: r.transport,
    status: r.status,
    reasonCode: r.reasonCode,
    reason: r.reason,
    colocatedPeers: r.colocatedPeers,
    remotePeers: r.remotePeers,
    degradedPeers: r.degradedPeers,
    warnings: r.warnings,
  };
}

/** Replaces a node's route reports; audits decision changes. */
export async function syncRoutes(node: AuthenticatedNode, reports: RouteReport[], meta: RequestMeta): Promise<{ stored: number; removed: number }> {
  // One report per file: the last one wins if a worker sent duplicates.
  const byFile = new Map<string, RouteReport>();
  for (const r of reports) byFile.set(r.sharedFileId, r);
  const fileIds = [...byFile.keys()];
  return db.$transaction(
    async (tx) => {
      const tenantFiles = new Set(
        fileIds.length ? (await tx.sharedFile.findMany({ where: { tenantId: node.tenantId, id: { in: fileIds } }, select: { id: true } })).map((f) => f.id) : [],
      );
      const existing = await tx.fileRoute.findMany({ where: { nodeId: node.nodeId } });
      const before = new Map(existing.map((e) => [e.sharedFileId, e]));
      const kept = [...byFile.values()].filter((r) => tenantFiles.has(r.sharedFileId));
      const gone = existing.filter((e) => !byFile.has(e.sharedFileId) || !tenantFiles.has(e.sharedFileId));
      const now = new Date();

      if (gone.length) await tx.fileRoute.deleteMany({ where: { nodeId: node.nodeId, id: { in: gone.map((g) => g.id) } } });
      const events: { action: "transport.selected" | "transport.switched" | "transport.failed"; fileId: string; before: unknown; after: unknown; failed: boolean }[] = [];
      for (const r of kept) {
        const data = {
          transport: r.transport,
          status: STATUS_TO_DB[r.status] as DbStatus,
          reasonCode: r.reasonCode,
          reason: r.reason,
          inputs: r.inputs as Prisma.InputJsonValue,
          colocatedPeers: r.colocatedPeers,
          remotePeers: r.remotePeers,
          degradedPeers: r.degradedPeers,
          warnings: r.warnings,
          stats: r.stats as unknown as Prisma.InputJsonValue,
          decidedAt: new Date(r.decidedAt),
          reportedAt: now,
        };
        const prev = before.get(r.sharedFileId);
        if (!prev) {
          await tx.fileRoute.create({ data: { ...data, tenantId: node.tenantId, sharedFileId: r.sharedFileId, nodeId: node.nodeId } });
        } else {
          await tx.fileRoute.update({ where: { id: prev.id }, data });
        }
        const after = decisionOf({ ...r, status: r.status });
        const failedNow = r.status !== "ok";
        if (!prev) {
          events.push({ action: failedNow ? "transport.failed" : "transport.selected", fileId: r.sharedFileId, before: null, after, failed: failedNow });
        } else {
          const prevDecision = decisionOf({ ...prev, status: STATUS_FROM_DB[prev.status] });
          const wasFailed = prev.status !== "OK";
          if (failedNow && (!wasFailed || prev.reasonCode !== r.reasonCode)) {
            events.push({ action: "transport.failed", fileId: r.sharedFileId, before: prevDecision, after, failed: true });
          } else if (prev.transport !== r.transport || (wasFailed && !failedNow)) {
            events.push({ action: prev.transport !== r.transport ? "transport.switched" : "transport.selected", fileId: r.sharedFileId, before: prevDecision, after, failed: false });
          }
        }
      }
      if (kept.length) {
        await tx.fileRouteSample.createMany({
          data: kept.map((r) => ({ tenantId: node.tenantId, sharedFileId: r.sharedFileId, nodeId: node.nodeId, transport: r.transport, at: now, stats: r.stats as unknown as Prisma.InputJsonValue })),
        });
      }
      await tx.fileRouteSample.deleteMany({ where: { nodeId: node.nodeId, at: { lt: new Date(now.getTime() - HISTORY_MS) } } });

      // Audit last: the chain head stays locked from the first event until commit.
      const ctx = { actor: nodeActor(node), tenantId: node.tenantId, meta };
      for (const e of events) {
        await recordAudit(tx, ctx, {
          action: e.action,
          target: { type: "sharedFile", id: e.fileId },
          before: e.before,
          after: { ...(e.after as object), nodeId: node.nodeId, nodeName: node.name },
          outcome: e.failed ? "FAILURE" : "SUCCESS",
        });
      }
      return { stored: kept.length, removed: gone.length };
    },
    { timeout: 20_000 },
  );
}

// ---------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------

type RouteRow = Prisma.FileRouteGetPayload<{ include: { node: { select: { name: true } } } }>;

function toFileRoute(row: RouteRow): TFileRoute {
  return {
    nodeId: row.nodeId,
    nodeName: row.node.name,
    transport: row.transport,
    status: STATUS_FROM_DB[row.status],
    reasonCode: row.reasonCode,
    reason: row.reason,
    inputs: (row.inputs ?? {}) as Record<string, unknown>,
    colocatedPeers: row.colocatedPeers,
    remotePeers: row.remotePeers,
    degradedPeers: row.degradedPeers,
    warnings: row.warnings,
    stats: row.stats && typeof row.stats === "object" && "network" in (row.stats as object) ? (row.stats as unknown as TRouteStats) : null,
    decidedAt: row.decidedAt.toISOString(),
    reportedAt: row.reportedAt.toISOString(),
  };
}

/** The tenant's file called `name` (404 when absent, of another tenant, or outside the key's patterns). */
export async function findFileForRead(ctx: TenantContext, name: string) {
  if (!keyMayAccessFile(ctx.actor, name)) throw new AppError("NOT_FOUND", `Shared file "${name}" not found`);
  const file = await db.sharedFile.findUnique({ where: { tenantId_name: { tenantId: ctx.tenantId, name } }, omit: { apiJson: true } });
  if (!file) throw new AppError("NOT_FOUND", `Shared file "${name}" not found`);
  return file;
}

/** Each node's current decision for the file: transport, reason, inputs, peers, stats. */
export async function getFileRoutes(ctx: TenantContext, name: string): Promise<TFileRoutes> {
  authorize(ctx, "file:read");
  const file = await findFileForRead(ctx, name);
  const rows = await db.fileRoute.findMany({
    where: { tenantId: ctx.tenantId, sharedFileId: file.id },
    include: { node: { select: { name: true } } },
    orderBy: { node: { name: "asc" } },
  });
  return { sharedFileId: file.id, name: file.name, transportPreference: file.transportPreference, routes: rows.map(toFileRoute) };
}

/** Stats samples of the file over the last `sinceMs` (≤ HISTORY_MS), oldest first. */
export async function getFileRouteHistory(ctx: TenantContext, name: string, sinceMs = HISTORY_MS): Promise<TRouteSample[]> {
  authorize(ctx, "file:read");
  const file = await findFileForRead(ctx, name);
  const rows = await db.fileRouteSample.findMany({
    where: { tenantId: ctx.tenantId, sharedFileId: file.id, at: { gte: new Date(Date.now() - Math.min(sinceMs, HISTORY_MS)) } },
    orderBy: { at: "asc" },
    take: 5000,
  });
  return rows.map((r) => ({ at: r.at.toISOString(), nodeId: r.nodeId, transport: r.transport, stats: r.stats as unknown as TRouteStats }));
}

/** The routes of one node (Nodes page: what it carries, and how fast). */
export async function getNodeRoutes(ctx: TenantContext, nodeId: string): Promise<(TFileRoute & { sharedFileId: string; fileName: string })[]> {
  authorize(ctx, "node:read");
  const node = await db.node.findFirst({ where: { id: nodeId, tenantId: ctx.tenantId }, select: { id: true } });
  if (!node) throw AppError.notFound("Node");
  const rows = await db.fileRoute.findMany({
    where: { tenantId: ctx.tenantId, nodeId },
    include: { node: { select: { name: true } }, sharedFile: { select: { name: true } } },
    orderBy: { sharedFile: { name: "asc" } },
  });
  const visible = rows.filter((r) => keyMayAccessFile(ctx.actor, r.sharedFile.name));
  return visible.map((r) => ({ ...toFileRoute(r), sharedFileId: r.sharedFileId, fileName: r.sharedFile.name }));
}
