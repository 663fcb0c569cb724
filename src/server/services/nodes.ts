/**
 * Worker nodes of a tenant, with health computed from heartbeat age at read time (see
 * `nodeHealth` in the node contract). Join tokens and the worker-facing endpoints arrive with
 * the worker step.
 */
import { Prisma } from "~/generated/prisma";
import type { TenantContext } from "~/server/actor";
import { authorize } from "~/server/actor";
import { decodeCursor, encodeCursor, type Page } from "~/server/contracts/common";
import { nodeHealth, type NodeHealth, type TNode, type TNodeListQuery } from "~/server/contracts/node";
import { fromDbEnum } from "~/server/contracts/shared-file";
import { db } from "~/server/db";
import { AppError } from "~/server/errors";

type NodeRow = Prisma.NodeGetPayload<{ omit: { tenantId: true; credentialHash: true } }>;

function stringRecord(v: Prisma.JsonValue): Record<string, string> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === "string"));
}

function objectRecord(v: Prisma.JsonValue): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? { ...v } : {};
}

/** Row → API shape. `now` is taken once per page so every node of a page is judged at the same instant. */
export function toNode(row: NodeRow, now: number = Date.now()): TNode {
  return {
    id: row.id,
    name: row.name,
    hostname: row.hostname,
    version: row.version,
    labels: stringRecord(row.labels),
    capabilities: objectRecord(row.capabilities),
    status: fromDbEnum(row.status),
    health: nodeHealth(row.lastHeartbeatAt, row.heartbeatIntervalMs, now),
    heartbeatIntervalMs: row.heartbeatIntervalMs,
    lastHeartbeatAt: row.lastHeartbeatAt?.toISOString() ?? null,
    joinedAt: row.joinedAt.toISOString(),
  };
}

/**
 * SQL condition equivalent to `nodeHealth(...) === health`, so the filter composes with keyset
 * pagination (filtering after the query would return short pages). The bounds match the JS
 * function: "healthy" is age ≤ 2×, "degraded" 2× < age ≤ 4×, and so on.
 */
function healthCondition(health: NodeHealth, now: Date): Prisma.Sql {
  const age = Prisma.sql`(${now}::timestamp - "lastHeartbeatAt")`;
  const times = (k: number) => Prisma.sql`("heartbeatIntervalMs" * ${k}::int * interval '1 millisecond')`;
  switch (health) {
    case "healthy":
      return Prisma.sql`"lastHeartbeatAt" IS NOT NULL AND ${age} <= ${times(2)}`;
    case "degraded":
      return Prisma.sql`"lastHeartbeatAt" IS NOT NULL AND ${age} > ${times(2)} AND ${age} <= ${times(4)}`;
    case "unresponsive":
      return Prisma.sql`"lastHeartbeatAt" IS NOT NULL AND ${age} > ${times(4)} AND ${age} <= ${times(8)}`;
    case "disconnected":
      return Prisma.sql`("lastHeartbeatAt" IS NULL OR ${age} > ${times(8)})`;
  }
}

const NODE_COLUMNS = Prisma.raw(
  ["id", "name", "hostname", "version", "labels", "capabilities", "status", "heartbeatIntervalMs", "lastHeartbeatAt", "joinedAt", "revokedAt", "updatedAt"]
    .map((c) => `"${c}"`)
    .join(", "),
);

/** The tenant's nodes by name, optionally only those in one health state. */
export async function listNodes(ctx: TenantContext, query: TNodeListQuery): Promise<Page<TNode>> {
  authorize(ctx, "node:read");
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  if (query.cursor && after === null) throw AppError.validation({ cursor: ["Invalid cursor: pass the nextCursor of a previous page"] });
  const now = new Date();
  const rows = await db.$queryRaw<NodeRow[]>`
    SELECT ${NODE_COLUMNS} FROM "Node"
    WHERE "tenantId" = ${ctx.tenantId}
      AND (${after}::text IS NULL OR "name" > ${after}::text)
      AND ${query.health ? healthCondition(query.health, now) : Prisma.sql`TRUE`}
    ORDER BY "name"
    LIMIT ${query.limit + 1}`;
  const page = rows.slice(0, query.limit);
  return {
    items: page.map((r) => toNode(r, now.getTime())),
    nextCursor: rows.length > query.limit ? encodeCursor(page[page.length - 1]!.name) : null,
  };
}

/** One node by id; NOT_FOUND when it belongs to another tenant. */
export async function getNode(ctx: TenantContext, id: string): Promise<TNode> {
  authorize(ctx, "node:read");
  const row = await db.node.findFirst({ where: { id, tenantId: ctx.tenantId }, omit: { tenantId: true, credentialHash: true } });
  if (!row) throw AppError.notFound("Node");
  return toNode(row);
}
