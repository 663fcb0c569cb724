/**
 * Every authenticated REST route of /api/v1, declared once. The files under
 * `src/app/api/v1/**` only bind these to HTTP methods; OpenAPI and the authorization matrix
 * test read `REST_ROUTES`. Each handler calls the same service the tRPC procedure calls.
 */
import { z } from "zod";
import { ZAuditExportFormat, ZAuditFilters } from "~/server/contracts/audit";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ZPage, ZPageQuery, ZTimestamp, decodeCursor, encodeCursor } from "~/server/contracts/common";
import { ZNode, ZNodeListQuery } from "~/server/contracts/node";
import { ZSharedFile, ZSharedFileCreate, ZSharedFileNameParam, ZSharedFilePatch } from "~/server/contracts/shared-file";
import { ZRole } from "~/server/contracts/tenant";
import { exportAuditStream } from "~/server/audit/export";
import { listAuditEvents } from "~/server/audit/query";
import { AppError } from "~/server/errors";
import { listMembers } from "~/server/services/memberships";
import { listNodes } from "~/server/services/nodes";
import { createSharedFile, deleteSharedFile, getSharedFile, listSharedFilesJson, sharedFilePageJson, updateSharedFile } from "~/server/services/shared-files";
import { getTenant } from "~/server/services/tenants";
import { ZDeadLetter, ZFileRoutes, ZMessagePublish, ZMessagesPage, ZMessagesQuery, ZSlotParam, ZVariableValue, ZVariableWrite, ZWriteResult } from "~/server/contracts/routing";
import { listDeadLetters, publishMessage, readMessages, readVariable, writeVariable } from "~/server/services/file-data";
import { getFileRoutes } from "~/server/services/file-routes";
import { ZEventFeedQuery, eventFeedResponse } from "~/server/services/event-feed";
import { authorize } from "~/server/actor";
import { authenticateRest, defineRoute, type AnyRouteDef } from "./handler";
import { JsonText } from "./http";

// ---------------------------------------------------------------------------
// JSON shapes of things whose services return Dates (REST sends ISO strings)
// ---------------------------------------------------------------------------

export const ZTenantJson = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  auditRetentionDays: z.number().int().meta({ description: "Audit events older than this are purged." }),
  createdAt: ZTimestamp,
  updatedAt: ZTimestamp,
});

export const ZMemberJson = z.object({
  id: z.string(),
  userId: z.string(),
  role: ZRole,
  createdAt: ZTimestamp,
  user: z.object({ id: z.string(), name: z.string().nullable(), email: z.string().nullable(), image: z.string().nullable() }),
});

export const ZAuditEventJson = z.object({
  id: z.string(),
  seq: z.number().int().meta({ description: "Position in the tenant's hash chain." }),
  occurredAt: ZTimestamp,
  actorType: z.enum(["USER", "API_KEY", "NODE", "SYSTEM", "ANONYMOUS"]),
  actorId: z.string().nullable(),
  actorLabel: z.string().nullable(),
  action: z.string().meta({ example: "file.created" }),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  requestId: z.string().nullable(),
  before: z.unknown().nullable(),
  after: z.unknown().nullable(),
  outcome: z.enum(["SUCCESS", "DENIED", "FAILURE"]),
  hash: z.string().meta({ description: "SHA-256 of this event's canonical form (includes prevHash)." }),
  prevHash: z.string(),
});

/** Audit filters flattened into the query string, plus the page. */
export const ZAuditQuery = z.object({
  ...ZAuditFilters.shape,
  cursor: ZPageQuery.shape.cursor,
  limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: "Page size, 1–200 (default 50)." }),
});

export const ZAuditExportQuery = z.object({
  ...ZAuditFilters.shape,
  format: ZAuditExportFormat.default("jsonl").meta({ description: "`csv` or `jsonl` (JSON Lines)." }),
});

// ---------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------

export const getTenantRoute = defineRoute({
  method: "get",
  path: "/tenant",
  tag: "Tenant",
  summary: "The tenant of the API key (or of X-Commy-Tenant for signed-in users)",
  permission: "tenant:read",
  success: { status: 200, schema: ZTenantJson, description: "The tenant." },
  handler: ({ ctx }) => getTenant(ctx),
});

export const listMembersRoute = defineRoute({
  method: "get",
  path: "/members",
  tag: "Members",
  summary: "Members of the tenant and their roles (owners first)",
  permission: "member:read",
  query: ZPageQuery,
  success: { status: 200, schema: ZPage(ZMemberJson), description: "A page of members." },
  handler: async ({ ctx, query }) => {
    // Member lists are small and sorted by role in the service: page over that order.
    const offset = query.cursor ? Number(decodeCursor(query.cursor)) : 0;
    if (!Number.isSafeInteger(offset) || offset < 0) throw AppError.validation({ cursor: ["Invalid cursor: pass the nextCursor of a previous page"] });
    const all = await listMembers(ctx);
    const items = all.slice(offset, offset + query.limit);
    return { items, nextCursor: offset + query.limit < all.length ? encodeCursor(String(offset + query.limit)) : null };
  },
});

export const listFilesRoute = defineRoute({
  method: "get",
  path: "/files",
  tag: "Shared files",
  summary: "Shared files of the tenant, by name",
  description: `Cursor pagination: \`?limit=\` (1–${MAX_PAGE_SIZE}, default ${DEFAULT_PAGE_SIZE}) and \`?cursor=\` from the previous page's \`nextCursor\`. API keys with file patterns see only matching files.`,
  permission: "file:read",
  query: ZPageQuery,
  success: { status: 200, schema: ZPage(ZSharedFile), description: "A page of shared files." },
  // The files' stored JSON, sent without parsing (services/shared-files.ts).
  handler: async ({ ctx, query }) => new JsonText(sharedFilePageJson(await listSharedFilesJson(ctx, query))),
});

export const createFileRoute = defineRoute({
  method: "post",
  path: "/files",
  tag: "Shared files",
  summary: "Declare a shared file",
  description: "Only `name`, `kind` and `layout` are required. A taken name is 409 CONFLICT with a field error on `name`.",
  permission: "file:create",
  body: ZSharedFileCreate,
  success: { status: 201, schema: ZSharedFile, description: "The created file (Location header points at it)." },
  handler: async ({ ctx, body, meta }) => {
    const file = await createSharedFile(ctx, body as z.input<typeof ZSharedFileCreate>);
    return new Response(JSON.stringify(file), {
      status: 201,
      headers: {
        "content-type": "application/json; charset=utf-8",
        "cache-control": "no-store",
        location: `/api/v1/files/${encodeURIComponent(file.name)}`,
        "x-request-id": meta.requestId,
      },
    });
  },
});

export const getFileRoute = defineRoute({
  method: "get",
  path: "/files/{name}",
  tag: "Shared files",
  summary: "One shared file",
  permission: "file:read",
  params: ZSharedFileNameParam,
  success: { status: 200, schema: ZSharedFile, description: "The file." },
  handler: ({ ctx, params }) => getSharedFile(ctx, params.name),
});

export const updateFileRoute = defineRoute({
  method: "patch",
  path: "/files/{name}",
  tag: "Shared files",
  summary: "Change a shared file (optimistic concurrency on `revision`)",
  description: "Send the `revision` you last read; if someone changed the file since, the answer is 409 CONFLICT and nothing changes. `name` and `kind` cannot change.",
  permission: "file:update",
  params: ZSharedFileNameParam,
  body: ZSharedFilePatch,
  rawBody: true,
  success: { status: 200, schema: ZSharedFile, description: "The file after the change (revision + 1)." },
  handler: ({ ctx, params, body }) => updateSharedFile(ctx, params.name, body),
});

export const deleteFileRoute = defineRoute({
  method: "delete",
  path: "/files/{name}",
  tag: "Shared files",
  summary: "Delete a shared file",
  description: "With `?revision=`, deletes only if the file is still at that revision (409 otherwise).",
  permission: "file:delete",
  params: ZSharedFileNameParam,
  query: z.object({ revision: z.coerce.number().int().min(1).optional().meta({ description: "Delete only this revision." }) }),
  success: { status: 204, description: "Deleted." },
  handler: async ({ ctx, params, query }) => {
    await deleteSharedFile(ctx, params.name, { revision: query.revision });
    return undefined;
  },
});

export const listNodesRoute = defineRoute({
  method: "get",
  path: "/nodes",
  tag: "Nodes",
  summary: "Worker nodes of the tenant, with health from heartbeat age",
  permission: "node:read",
  query: ZNodeListQuery,
  success: { status: 200, schema: ZPage(ZNode), description: "A page of nodes." },
  handler: ({ ctx, query }) => listNodes(ctx, query),
});

export const queryAuditRoute = defineRoute({
  method: "get",
  path: "/audit",
  tag: "Audit",
  summary: "Query the audit log (newest first)",
  permission: "audit:read",
  query: ZAuditQuery,
  success: { status: 200, schema: ZPage(ZAuditEventJson), description: "A page of audit events." },
  handler: ({ ctx, query }) => {
    const { cursor, limit, ...filters } = query;
    return listAuditEvents(ctx, { filters, cursor: cursor ?? null, limit });
  },
});

export const exportAuditRoute = defineRoute({
  method: "get",
  path: "/audit/export",
  tag: "Audit",
  summary: "Export the audit log as CSV or JSON Lines (oldest first, streamed)",
  permission: "audit:export",
  query: ZAuditExportQuery,
  success: { status: 200, description: "The events, streamed.", contentTypes: ["text/csv", "application/x-ndjson"] },
  handler: async ({ ctx, query, meta }) => {
    const { format, ...filters } = query;
    const parsed = ZAuditFilters.safeParse(filters);
    if (!parsed.success) throw parsed.error;
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    return new Response(exportAuditStream(ctx, parsed.data, format), {
      status: 200,
      headers: {
        "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
        "content-disposition": `attachment; filename="audit-${stamp}.${format}"`,
        "cache-control": "no-store",
        "x-request-id": meta.requestId,
      },
    });
  },
});

// ---------------------------------------------------------------------------
// Cross-node routing: decisions, and data through Redis (no local worker needed)
// ---------------------------------------------------------------------------

export const getFileRoutesRoute = defineRoute({
  method: "get",
  path: "/files/{name}/routes",
  tag: "Routing",
  summary: "Why does this file use the network? Each node's current transport decision, reason and inputs",
  description:
    "One entry per node that reported a decision for the file: `transport` (SHARED_MEMORY, NETWORK, HYBRID; null when refused), `status`, `reasonCode`, the human `reason`, the `inputs` it was made from (peers, preference, measurements, health), peers and warnings, and the latest stats.",
  permission: "file:read",
  params: ZSharedFileNameParam,
  success: { status: 200, schema: ZFileRoutes, description: "The file's routes." },
  handler: ({ ctx, params }) => getFileRoutes(ctx, params.name),
});

export const readVariableRoute = defineRoute({
  method: "get",
  path: "/files/{name}/variables/{slot}",
  tag: "Data",
  summary: "Read a variable's current value (through Redis)",
  description:
    "The value every node converges to (last writer wins by hybrid logical clock). JSON files answer `value`; msgpack, cbor and raw files answer `base64`. `present: false` when nothing was written through Redis yet. Unknown slot: 404 SLOT_NOT_FOUND. No Redis configured: 503 ROUTING_UNAVAILABLE.",
  permission: "file:data:read",
  params: ZSlotParam,
  success: { status: 200, schema: ZVariableValue, description: "The value." },
  handler: ({ ctx, params }) => readVariable(ctx, params.name, params.slot),
});

export const writeVariableRoute = defineRoute({
  method: "post",
  path: "/files/{name}/variables/{slot}",
  tag: "Data",
  summary: "Write a variable (through Redis; every node applies it)",
  description:
    "Body `{ value }` for JSON files, `{ base64 }` for msgpack, cbor and raw files. The encoded value must fit the slot's `maxSize` (413 PAYLOAD_TOO_LARGE otherwise). Answers once Redis holds the write; audited as `data.variable_written`.",
  permission: "file:data:write",
  params: ZSlotParam,
  body: ZVariableWrite,
  success: { status: 200, schema: ZWriteResult, description: "Where the write went: the control plane's routing node id, epoch, seq and HLC stamp." },
  handler: ({ ctx, params, body }) => writeVariable(ctx, params.name, params.slot, body as z.output<typeof ZVariableWrite>),
});

export const publishMessageRoute = defineRoute({
  method: "post",
  path: "/files/{name}/messages",
  tag: "Data",
  summary: "Publish a message to a stream file (through Redis)",
  description:
    "Body `{ value, subject? }` for JSON files, `{ base64, subject? }` otherwise; at most the layout's `messageMaxSize` bytes encoded. Answers once Redis holds it; audited as `data.published`.",
  permission: "file:data:write",
  params: ZSharedFileNameParam,
  body: ZMessagePublish,
  success: { status: 201, schema: ZWriteResult, description: "Published." },
  handler: ({ ctx, params, body }) => publishMessage(ctx, params.name, body as z.output<typeof ZMessagePublish>),
});

export const readMessagesRoute = defineRoute({
  method: "get",
  path: "/files/{name}/messages",
  tag: "Data",
  summary: "Read the file's Redis stream from an id",
  description:
    "Records (messages and variable writes) of the retained stream, oldest first, `limit` stream entries (frames) per page. Start at `from` (inclusive) or continue with `cursor` = the previous page's `nextCursor` (exclusive); an empty page keeps the cursor, so polling with it returns only newer entries.",
  permission: "file:data:read",
  params: ZSharedFileNameParam,
  query: ZMessagesQuery,
  success: { status: 200, schema: ZMessagesPage, description: "A page of records." },
  handler: ({ ctx, params, query }) => readMessages(ctx, params.name, query),
});

export const listDeadLettersRoute = defineRoute({
  method: "get",
  path: "/files/{name}/dead-letters",
  tag: "Data",
  summary: "Dead letters of the file (records that failed to apply N times), newest first",
  permission: "file:data:read",
  params: ZSharedFileNameParam,
  query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: "1–200 (default 50)." }) }),
  success: {
    status: 200,
    schema: z.object({ total: z.number().int(), streamLength: z.number().int(), items: z.array(ZDeadLetter) }),
    description: "Dead letters, their total, and the file's stream length.",
  },
  handler: ({ ctx, params, query }) => listDeadLetters(ctx, params.name, query.limit),
});

export const eventFeedRoute = defineRoute({
  method: "get",
  path: "/events",
  tag: "Events",
  summary: "The tenant's event feed, as server-sent events",
  description:
    "Files created, changed, deleted; attachments opened and closed; transport selected, switched, failed; data written through the API; authentication and authorization failures. Each event is `id: <audit seq>`, `event: <action>`, `data: <JSON>`. Resume with the `Last-Event-ID` header (or `?lastEventId=`). `?backlog=N` starts with the N latest events. A comment line is sent every 15 s as a heartbeat. The stream ends (`event: end`) when the caller loses access to the tenant. `?follow=false` sends what is there and closes. Signed-in callers name the tenant with `X-Commy-Tenant` like on every route (the UI reads the stream with fetch, so it can send the header).",
  permission: "audit:read",
  query: ZEventFeedQuery,
  success: { status: 200, description: "An event stream.", contentTypes: ["text/event-stream"] },
  handler: ({ ctx, query, req, meta }) =>
    // Access is re-verified while the stream is open: a revoked key or a removed member ends it.
    eventFeedResponse(ctx, query, req, meta, async () => authorize(await authenticateRest(req, meta), "audit:read")),
});

/** Every authenticated route (OpenAPI and the authorization matrix test iterate over this). */
export const REST_ROUTES: readonly AnyRouteDef[] = [
  getTenantRoute,
  listMembersRoute,
  listFilesRoute,
  createFileRoute,
  getFileRoute,
  updateFileRoute,
  deleteFileRoute,
  listNodesRoute,
  queryAuditRoute,
  exportAuditRoute,
  getFileRoutesRoute,
  readVariableRoute,
  writeVariableRoute,
  publishMessageRoute,
  readMessagesRoute,
  listDeadLettersRoute,
  eventFeedRoute,
];
