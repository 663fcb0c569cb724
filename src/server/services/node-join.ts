/**
 * Worker nodes from the control plane's side: join tokens, joining, the node credential,
 * heartbeat, catalogue, tenant worker settings (versioned, rollback), API-key checks for the
 * data plane, attachment reports, revoke and drain.
 *
 * Secrets: join tokens (`cmj_…`) and node credentials (`cmn_…`) carry 256 random bits; only
 * their SHA-256 is stored. A fast hash is right for that much entropy (nothing to brute-force).
 *
 * Every state change is audited in the same transaction as the change. Heartbeats, catalogue
 * reads and key checks are not: they are reads or liveness pings that arrive every few seconds
 * per node and would drown the log; their effect is visible as node health.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Prisma } from "~/generated/prisma";
import type { Actor, RequestMeta, TenantContext } from "~/server/actor";
import { authorize } from "~/server/actor";
import { recordAudit } from "~/server/audit";
import {
  CatalogueFileSchema,
  WorkerSettingsSchema,
  type AttachmentReport,
  type FileExpiredReport,
  type CatalogueFile,
  type CatalogueResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type JoinRequest,
  type JoinResponse,
  type SettingsResponse,
  type VerifyKeyResponse,
  type WorkerSettings,
} from "~/server/contracts/worker";
import { db } from "~/server/db";
import { livenessPool } from "~/server/db-hot";
import { AppError } from "~/server/errors";
import { logger } from "~/server/logger";
import { apiKeySecretMatches, parseApiKey } from "./api-key-secret";
import { revokeNodeRouting } from "./node-routing";

export const JOIN_TOKEN_TTL_MS = 60 * 60 * 1000;

function sha256(s: string): string {
  return createHash("sha256").update(s, "utf8").digest("hex");
}

function secret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString("base64url")}`;
}

/** Why a node credential was refused; route handlers map it to 401 with this code. */
export class NodeAuthError extends Error {
  constructor(
    readonly code: "NODE_CREDENTIAL_INVALID" | "NODE_REVOKED",
    message: string,
  ) {
    super(message);
    this.name = "NodeAuthError";
  }
}

export interface AuthenticatedNode {
  nodeId: string;
  tenantId: string;
  name: string;
  status: "ACTIVE" | "DRAINING" | "REVOKED";
}

function nodeActor(node: { nodeId: string; tenantId: string; name: string }): Actor {
  return { type: "NODE", nodeId: node.nodeId, tenantId: node.tenantId, label: node.name };
}

// ---------------------------------------------------------------------------------------------
// Join tokens and joining
// ---------------------------------------------------------------------------------------------

export interface CreatedJoinToken {
  id: string;
  /** Shown once. */
  token: string;
  expiresAt: Date;
  /** The exact command an operator runs on the host. */
  command: string;
}

/** Creates a one-time join token valid for one hour. */
export async function createJoinToken(
  ctx: TenantContext,
  input: { labels?: Record<string, string>; controlPlaneUrl: string },
): Promise<CreatedJoinToken> {
  authorize(ctx, "node:manage");
  const token = secret("cmj");
  const expiresAt = new Date(Date.now() + JOIN_TOKEN_TTL_MS);
  const labels = input.labels ?? {};
  const row = await db.$transaction(async (tx) => {
    const created = await tx.nodeJoinToken.create({
      data: { tenantId: ctx.tenantId, tokenHash: sha256(token), labels, expiresAt, createdById: ctx.actor.type === "USER" ? ctx.actor.userId : null },
    });
    await recordAudit(tx, ctx, { action: "node.join_token_created", target: { type: "nodeJoinToken", id: created.id }, after: { labels, expiresAt } });
    return created;
  });
  const labelFlags = Object.entries(labels)
    .map(([k, v]) => ` --label ${k}=${v}`)
    .join("");
  return {
    id: row.id,
    token,
    expiresAt,
    command: `npx tsx worker/main.ts --control-plane-url ${input.controlPlaneUrl} --join-token ${token}${labelFlags}`,
  };
}

/** Makes an unused join token unusable. */
export async function revokeJoinToken(ctx: TenantContext, input: { id: string }): Promise<void> {
  authorize(ctx, "node:manage");
  await db.$transaction(async (tx) => {
    const n = await tx.nodeJoinToken.updateMany({ where: { id: input.id, tenantId: ctx.tenantId, usedAt: null }, data: { expiresAt: new Date() } });
    if (n.count === 0) throw AppError.notFound("Unused join token");
    await recordAudit(tx, ctx, { action: "node.join_token_revoked", target: { type: "nodeJoinToken", id: input.id } });
  });
}

/**
 * Exchanges a join token for a node credential. The token is consumed by one conditional UPDATE
 * (unused and unexpired), so two workers racing with the same token cannot both join.
 */
export async function exchangeJoinToken(input: JoinRequest, meta: RequestMeta): Promise<JoinResponse> {
  const credential = secret("cmn");
  return db.$transaction(async (tx) => {
    const now = new Date();
    const claimed = await tx.nodeJoinToken.updateManyAndReturn({
      where: { tokenHash: sha256(input.token), usedAt: null, expiresAt: { gt: now } },
      data: { usedAt: now },
    });
    const token = claimed[0];
    if (!token) throw new AppError("UNAUTHENTICATED", "The join token is invalid, already used or expired. Create a new one in the control plane (Nodes → Add node).");
    const settings = await activeSettings(tx, token.tenantId);
    // Names are unique per tenant; a host that joins again (lost its state dir), or two hosts with
    // the same name joining at once, get a suffix. ON CONFLICT DO NOTHING (skipDuplicates) instead
    // of check-then-insert: a concurrent join of the same name cannot fail this transaction.
    const labels = { ...(token.labels as Record<string, string>), ...input.labels };
    const base = input.name ?? input.hostname;
    let node: Awaited<ReturnType<typeof tx.node.createManyAndReturn>>[number] | undefined;
    for (let attempt = 0; !node; attempt++) {
      if (attempt === 5) throw new AppError("CONFLICT", `Could not find a free node name for ${base}; pass --name`);
      const created = await tx.node.createManyAndReturn({
        data: [
          {
            tenantId: token.tenantId,
            name: attempt === 0 ? base : `${base}-${randomBytes(3).toString("hex")}`,
            hostname: input.hostname,
            version: input.version,
            labels,
            capabilities: input.capabilities,
            credentialHash: sha256(credential),
            heartbeatIntervalMs: settings.settings.heartbeatIntervalMs,
            lastHeartbeatAt: now,
          },
        ],
        skipDuplicates: true,
      });
      node = created[0];
    }
    const name = node.name;
    await tx.nodeJoinToken.update({ where: { id: token.id }, data: { usedByNode: node.id } });
    await recordAudit(
      tx,
      { actor: nodeActor({ nodeId: node.id, tenantId: node.tenantId, name }), tenantId: node.tenantId, meta },
      { action: "node.joined", target: { type: "node", id: node.id }, after: { name, hostname: input.hostname, version: input.version, labels, capabilities: input.capabilities } },
    );
    return { nodeId: node.id, tenantId: node.tenantId, name, credential, heartbeatIntervalMs: settings.settings.heartbeatIntervalMs };
  });
}

/** Refuses a missing or malformed credential without touching the database. */
export function assertNodeCredentialShape(credential: string | null): asserts credential is string {
  if (!credential || !credential.startsWith("cmn_")) throw new NodeAuthError("NODE_CREDENTIAL_INVALID", "Missing or malformed node credential");
}

/** Resolves `Authorization: Node <credential>`. Revoked nodes are refused with their own code. */
export async function authenticateNode(credential: string | null): Promise<AuthenticatedNode> {
  assertNodeCredentialShape(credential);
  const node = await db.node.findUnique({ where: { credentialHash: sha256(credential) }, select: { id: true, tenantId: true, name: true, status: true } });
  if (!node) throw new NodeAuthError("NODE_CREDENTIAL_INVALID", "Unknown node credential");
  if (node.status === "REVOKED") throw new NodeAuthError("NODE_REVOKED", "This node was revoked; join again with a new token");
  return { nodeId: node.id, tenantId: node.tenantId, name: node.name, status: node.status };
}

// ---------------------------------------------------------------------------------------------
// Heartbeat, catalogue, settings
// ---------------------------------------------------------------------------------------------

/** The interval a tenant without settings (or without that field) runs with. */
const DEFAULT_HEARTBEAT_INTERVAL_MS = WorkerSettingsSchema.parse({}).heartbeatIntervalMs;

/**
 * The whole heartbeat in one statement: authenticate (credential hash, not revoked), record
 * liveness and the worker's version, copy the interval of the tenant's active settings (so health
 * = age / interval follows a settings change) and return the node's status and that settings
 * version. Both settings subqueries see the statement's one snapshot, so interval and version
 * always belong to the same settings row. `updatedAt` is set as Prisma's `@updatedAt` would.
 */
const HEARTBEAT_SQL = `
UPDATE "Node" AS n
SET "lastHeartbeatAt" = $3::timestamp, "updatedAt" = $3::timestamp, "version" = $2,
    "heartbeatIntervalMs" = COALESCE((
      SELECT (w."settings"->>'heartbeatIntervalMs')::int FROM "WorkerSettings" AS w
      WHERE w."tenantId" = n."tenantId" AND w."active" ORDER BY w."version" DESC LIMIT 1), $4)
WHERE n."credentialHash" = $1 AND n."status" <> 'REVOKED'
RETURNING n."status"::text AS "status", n."heartbeatIntervalMs" AS "heartbeatIntervalMs",
  COALESCE((
    SELECT w."version" FROM "WorkerSettings" AS w
    WHERE w."tenantId" = n."tenantId" AND w."active" ORDER BY w."version" DESC LIMIT 1), 0) AS "settingsVersion"`;

/**
 * `POST /api/worker/heartbeat` for a credential: one statement on the hot pool when the node is
 * known and not revoked; otherwise one more lookup to tell an unknown credential from a revoked
 * node (the same errors as `authenticateNode`).
 */
export async function heartbeatByCredential(credential: string | null, req: HeartbeatRequest): Promise<HeartbeatResponse> {
  assertNodeCredentialShape(credential);
  const hash = sha256(credential);
  const now = new Date();
  const { rows } = await livenessPool().query<{ status: HeartbeatResponse["nodeStatus"]; heartbeatIntervalMs: number; settingsVersion: number }>({
    name: "commy_node_heartbeat",
    text: HEARTBEAT_SQL,
    values: [hash, req.version, now.toISOString(), DEFAULT_HEARTBEAT_INTERVAL_MS],
  });
  const row = rows[0];
  if (!row) {
    const found = await livenessPool().query<{ status: string }>({ name: "commy_node_status_by_credential", text: `SELECT "status"::text AS "status" FROM "Node" WHERE "credentialHash" = $1`, values: [hash] });
    if (found.rows[0]?.status === "REVOKED") throw new NodeAuthError("NODE_REVOKED", "This node was revoked; join again with a new token");
    throw new NodeAuthError("NODE_CREDENTIAL_INVALID", "Unknown node credential");
  }
  return { nodeStatus: row.status, heartbeatIntervalMs: row.heartbeatIntervalMs, settingsVersion: row.settingsVersion, serverTime: now.toISOString() };
}

/**
 * The tenant's catalogue. The ETag summarises (count, newest update, sum of revisions): any
 * create, update or delete changes it, so an unchanged catalogue costs one aggregate query.
 */
export async function catalogueEtag(tenantId: string): Promise<string> {
  const agg = await db.sharedFile.aggregate({ where: { tenantId }, _count: { _all: true }, _max: { updatedAt: true }, _sum: { revision: true } });
  return `"c${agg._count._all}-${agg._max.updatedAt?.getTime() ?? 0}-${agg._sum.revision ?? 0}"`;
}

export async function getCatalogue(node: AuthenticatedNode, ifNoneMatch: string | null): Promise<CatalogueResponse | null> {
  const etag = await catalogueEtag(node.tenantId);
  if (ifNoneMatch === etag) return null;
  const rows = await db.sharedFile.findMany({ where: { tenantId: node.tenantId }, orderBy: { name: "asc" }, omit: { apiJson: true } });
  const files: CatalogueFile[] = rows.map((r) =>
    CatalogueFileSchema.parse({ ...r, layout: r.layout, updatedAt: r.updatedAt.toISOString() }),
  );
  return { etag, files };
}

async function activeSettings(tx: Prisma.TransactionClient, tenantId: string): Promise<SettingsResponse> {
  const row = await tx.workerSettings.findFirst({ where: { tenantId, active: true }, orderBy: { version: "desc" } });
  // No row yet: version 0 = all defaults.
  return { version: row?.version ?? 0, settings: WorkerSettingsSchema.parse(row?.settings ?? {}) };
}

export function settingsEtag(version: number): string {
  return `"s${version}"`;
}

/** Active settings of the node's tenant. */
export function getNodeSettings(node: AuthenticatedNode): Promise<SettingsResponse> {
  return activeSettings(db, node.tenantId);
}

export async function getWorkerSettings(ctx: TenantContext): Promise<SettingsResponse & { history: { version: number; active: boolean; createdAt: Date; settings: WorkerSettings }[] }> {
  authorize(ctx, "settings:read");
  const current = await activeSettings(db, ctx.tenantId);
  const rows = await db.workerSettings.findMany({ where: { tenantId: ctx.tenantId }, orderBy: { version: "desc" }, take: 50 });
  return { ...current, history: rows.map((r) => ({ version: r.version, active: r.active, createdAt: r.createdAt, settings: WorkerSettingsSchema.parse(r.settings) })) };
}

async function writeSettingsVersion(tx: Prisma.TransactionClient, ctx: TenantContext, settings: WorkerSettings): Promise<{ before: SettingsResponse; after: SettingsResponse }> {
  // Serialize version numbering per tenant: the audit chain head is per tenant too, but we need
  // the lock before reading max(version).
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${"worker-settings:" + ctx.tenantId}))`;
  const before = await activeSettings(tx, ctx.tenantId);
  const last = await tx.workerSettings.findFirst({ where: { tenantId: ctx.tenantId }, orderBy: { version: "desc" }, select: { version: true } });
  const version = (last?.version ?? 0) + 1;
  await tx.workerSettings.updateMany({ where: { tenantId: ctx.tenantId, active: true }, data: { active: false } });
  await tx.workerSettings.create({
    data: { tenantId: ctx.tenantId, version, settings, active: true, createdById: ctx.actor.type === "USER" ? ctx.actor.userId : null },
  });
  return { before, after: { version, settings } };
}

/** Saves a new settings version (all fields validated and defaulted) and makes it active. */
export async function updateWorkerSettings(ctx: TenantContext, input: unknown): Promise<SettingsResponse> {
  authorize(ctx, "settings:update");
  const parsed = WorkerSettingsSchema.safeParse(input);
  if (!parsed.success) {
    const fields: Record<string, string[]> = {};
    for (const i of parsed.error.issues) (fields[i.path.join(".") || "settings"] ??= []).push(i.message);
    throw AppError.validation(fields);
  }
  return db.$transaction(async (tx) => {
    const { before, after } = await writeSettingsVersion(tx, ctx, parsed.data);
    await recordAudit(tx, ctx, { action: "settings.updated", target: { type: "workerSettings", id: String(after.version) }, before, after });
    return after;
  });
}

/** Rollback = a new version with an old version's content (history is never rewritten). */
export async function rollbackWorkerSettings(ctx: TenantContext, input: { version: number }): Promise<SettingsResponse> {
  authorize(ctx, "settings:update");
  return db.$transaction(async (tx) => {
    const old = await tx.workerSettings.findUnique({ where: { tenantId_version: { tenantId: ctx.tenantId, version: input.version } } });
    if (!old) throw AppError.notFound("Settings version");
    const { before, after } = await writeSettingsVersion(tx, ctx, WorkerSettingsSchema.parse(old.settings));
    await recordAudit(tx, ctx, { action: "settings.rolled_back", target: { type: "workerSettings", id: String(after.version) }, before, after: { ...after, from: input.version } });
    return after;
  });
}

// ---------------------------------------------------------------------------------------------
// Data-plane API-key checks
// ---------------------------------------------------------------------------------------------

/**
 * Verifies a client's API key for a worker. Always reads the database (no in-process cache):
 * the worker caches for at most its `apiKeyCacheMs`, and the two caches stacked must stay under
 * the 5-second revocation promise. A key of another tenant is reported as invalid, exactly like
 * an unknown key, so a worker learns nothing about other tenants.
 */
export async function verifyApiKeyForNode(node: AuthenticatedNode, rawKey: string): Promise<VerifyKeyResponse> {
  const invalid: VerifyKeyResponse = { valid: false, code: "API_KEY_INVALID", message: "Unknown or malformed API key" };
  const parsed = parseApiKey(rawKey);
  if (!parsed) return invalid;
  const key = await db.apiKey.findUnique({ where: { prefix: parsed.prefix } });
  if (!key || key.tenantId !== node.tenantId || !apiKeySecretMatches(parsed.secret, key.hash)) return invalid;
  if (key.revokedAt) return { valid: false, code: "API_KEY_REVOKED", message: "This API key was revoked" };
  if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) return { valid: false, code: "API_KEY_EXPIRED", message: "This API key has expired" };
  return { valid: true, apiKeyId: key.id, name: key.name, scopes: key.scopes, filePatterns: key.filePatterns, expiresAt: key.expiresAt?.toISOString() ?? null };
}

// ---------------------------------------------------------------------------------------------
// Attachments
// ---------------------------------------------------------------------------------------------

/**
 * Replaces the node's attachment set with what the worker reports (full sync: a lost report or
 * a worker restart heals on the next one). Each attach and detach is audited.
 */
export async function syncAttachments(node: AuthenticatedNode, reports: AttachmentReport[], meta: RequestMeta): Promise<{ added: number; removed: number }> {
  return db.$transaction(async (tx) => {
    const existing = await tx.attachment.findMany({ where: { nodeId: node.nodeId }, select: { id: true, sharedFileId: true, pid: true, side: true, transport: true, reason: true } });
    const reported = new Map(reports.map((r) => [r.id, r]));
    const gone = existing.filter((a) => !reported.has(a.id));
    const known = new Set(existing.map((a) => a.id));
    // Only files of the node's own tenant can be attached; anything else is dropped.
    const fileIds = [...new Set(reports.map((r) => r.sharedFileId))];
    const tenantFiles = new Set((await tx.sharedFile.findMany({ where: { tenantId: node.tenantId, id: { in: fileIds } }, select: { id: true } })).map((f) => f.id));
    const fresh = reports.filter((r) => !known.has(r.id) && tenantFiles.has(r.sharedFileId));
    if (gone.length) await tx.attachment.deleteMany({ where: { id: { in: gone.map((a) => a.id) }, nodeId: node.nodeId } });
    if (fresh.length)
      await tx.attachment.createMany({
        data: fresh.map((r) => ({
          id: r.id,
          tenantId: node.tenantId,
          sharedFileId: r.sharedFileId,
          nodeId: node.nodeId,
          pid: r.pid,
          side: r.side,
          transport: r.transport,
          reason: r.reason,
          apiKeyId: r.apiKeyId,
          since: new Date(r.since),
        })),
      });
    // A live attachment's transport is re-decided when peers come and go (cross-node routing).
    for (const e of existing) {
      const r = reported.get(e.id);
      if (r && (r.transport !== e.transport || r.reason !== e.reason)) await tx.attachment.update({ where: { id: e.id }, data: { transport: r.transport, reason: r.reason } });
    }
    const ctx = { actor: nodeActor(node), tenantId: node.tenantId, meta };
    for (const r of fresh)
      await recordAudit(tx, ctx, { action: "attachment.opened", target: { type: "sharedFile", id: r.sharedFileId }, after: { attachmentId: r.id, pid: r.pid, side: r.side, transport: r.transport, reason: r.reason, apiKeyId: r.apiKeyId } });
    for (const a of gone) await recordAudit(tx, ctx, { action: "attachment.closed", target: { type: "sharedFile", id: a.sharedFileId }, before: { attachmentId: a.id, pid: a.pid, side: a.side } });
    return { added: fresh.length, removed: gone.length };
  });
}

/**
 * A node removed a file's mapping because it reached the file's TTL: audited as `file.expired`
 * (so it reaches the event feed). Only files of the node's own tenant: another tenant's id is
 * not found, and nothing is recorded anywhere.
 */
export async function recordFileExpired(node: AuthenticatedNode, report: FileExpiredReport, meta: RequestMeta): Promise<{ recorded: boolean }> {
  return db.$transaction(async (tx) => {
    const file = await tx.sharedFile.findFirst({ where: { id: report.sharedFileId, tenantId: node.tenantId }, select: { id: true, name: true } });
    if (!file) throw AppError.notFound("Shared file");
    await recordAudit(tx, { actor: nodeActor(node), tenantId: node.tenantId, meta }, {
      action: "file.expired",
      target: { type: "sharedFile", id: file.id },
      after: {
        name: file.name,
        nodeId: node.nodeId,
        ttlSeconds: report.ttlSeconds,
        mappingCreatedAt: report.mappingCreatedAt,
        closedAttachments: report.closedAttachments.length,
      },
    });
    return { recorded: true };
  });
}

/** Live attachments of the tenant, optionally for one file or node. */
export async function listAttachments(ctx: TenantContext, filter: { sharedFileId?: string; nodeId?: string }) {
  authorize(ctx, "node:read");
  return db.attachment.findMany({
    where: { tenantId: ctx.tenantId, sharedFileId: filter.sharedFileId, nodeId: filter.nodeId },
    include: { sharedFile: { select: { name: true } }, node: { select: { name: true } } },
    orderBy: { since: "desc" },
    take: 1000,
  });
}

// ---------------------------------------------------------------------------------------------
// Revoke, drain
// ---------------------------------------------------------------------------------------------

async function changeNodeStatus(ctx: TenantContext, nodeId: string, to: "REVOKED" | "DRAINING" | "ACTIVE") {
  authorize(ctx, "node:manage");
  return db.$transaction(async (tx) => {
    const node = await tx.node.findFirst({ where: { id: nodeId, tenantId: ctx.tenantId } });
    if (!node) throw AppError.notFound("Node");
    if (node.status === "REVOKED") throw AppError.conflict("This node is revoked; it cannot change status");
    const updated = await tx.node.update({ where: { id: node.id }, data: { status: to, revokedAt: to === "REVOKED" ? new Date() : null } });
    // A revoked node serves nothing: its attachments are gone from the control plane's view.
    if (to === "REVOKED") await tx.attachment.deleteMany({ where: { nodeId: node.id } });
    await recordAudit(tx, ctx, {
      action: to === "REVOKED" ? "node.revoked" : to === "DRAINING" ? "node.drained" : "node.updated",
      target: { type: "node", id: node.id },
      before: { status: node.status },
      after: { status: to },
    });
    return { id: updated.id, status: updated.status };
  });
}

/** Revokes a node: its credential stops working at once, and the worker stops serving. */
export async function revokeNode(ctx: TenantContext, input: { nodeId: string }) {
  const result = await changeNodeStatus(ctx, input.nodeId, "REVOKED");
  // Its Redis user too (node-routing.ts): Redis drops its connections and refuses new logins.
  await revokeNodeRouting(input.nodeId).catch((e: unknown) => logger.error({ err: (e as Error).message, nodeId: input.nodeId }, "routing: could not delete the revoked node's Redis user"));
  return result;
}

/** Drains a node (no new sessions or opens; existing attachments keep working), or lifts a drain. */
export function drainNode(ctx: TenantContext, input: { nodeId: string; drain: boolean }) {
  return changeNodeStatus(ctx, input.nodeId, input.drain ? "DRAINING" : "ACTIVE");
}
