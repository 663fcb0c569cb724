/**
 * Shared files: the tenant's declarations of named, typed, memory-mappable regions.
 *
 * CRUD with cursor pagination (by name), optimistic concurrency through `revision` (a stale
 * revision is a CONFLICT, never a silent overwrite), names unique per tenant, and an audit
 * event with before/after in the same transaction as every change.
 *
 * API keys with `filePatterns` only ever see files whose names match: a file outside the
 * patterns is NOT_FOUND for them (its existence is not revealed), and creating one is
 * FORBIDDEN.
 */
import { Prisma } from "~/generated/prisma";
import type { TenantContext } from "~/server/actor";
import { authorize } from "~/server/actor";
import { recordAudit } from "~/server/audit";
import { globToLike } from "~/server/contracts/api-key";
import { decodeCursor, encodeCursor, zodFieldErrors, type Page, type PageRequest } from "~/server/contracts/common";
import {
  ZSharedFileCreate,
  ZSharedFilePatch,
  checkSharedFileRules,
  fromDbEnum,
  mergeSharedFilePatch,
  toDbEnum,
  type TLayout,
  type TSharedFile,
  type TSharedFileCreateInput,
  type TSharedFileSpec,
} from "~/server/contracts/shared-file";
import { db } from "~/server/db";
import { hotPool } from "~/server/db-hot";
import { AppError, type FieldErrors } from "~/server/errors";
import { keyMayAccessFile } from "./api-keys";

/** Columns read for a shared file (everything but tenantId and createdById). */
const COLUMN_NAMES = [
  "id", "name", "description", "kind", "pattern", "topology", "directionality", "serialization", "maxSizeBytes", "ttlSeconds",
  "maxConnections", "creationPolicy", "existencePolicy", "autoCleanup", "persistAfterDisconnect", "requiredPermissions",
  "transportPreference", "maxLatencyMicros", "minThroughputMsgPerSec", "consistency", "durability", "layout", "status",
  "revision", "createdAt", "updatedAt",
] as const;

/** What full-row reads leave out: tenancy and creator (not part of the API form) and the stored JSON. */
const OMIT = { tenantId: true, createdById: true, apiJson: true } as const;
type SharedFileRow = Prisma.SharedFileGetPayload<{ omit: typeof OMIT }>;
/** A row of the list query: timestamps already formatted as ISO 8601 by PostgreSQL. */
type SharedFileListRow = Omit<SharedFileRow, "createdAt" | "updatedAt"> & { createdAt: string; updatedAt: string };

/** ISO 8601 in UTC, as `Date#toISOString` gives it (a string from the list query is already that). */
const iso = (v: Date | string): string => (typeof v === "string" ? v : v.toISOString());

/** Database row → API shape (enum values to kebab-case, performance grouped, ISO dates). */
export function toSharedFile(row: SharedFileRow | SharedFileListRow): TSharedFile {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    kind: fromDbEnum(row.kind),
    pattern: fromDbEnum(row.pattern),
    topology: fromDbEnum(row.topology),
    directionality: fromDbEnum(row.directionality),
    serialization: fromDbEnum(row.serialization),
    maxSizeBytes: row.maxSizeBytes,
    ttlSeconds: row.ttlSeconds,
    maxConnections: row.maxConnections,
    creationPolicy: fromDbEnum(row.creationPolicy),
    existencePolicy: fromDbEnum(row.existencePolicy),
    autoCleanup: row.autoCleanup,
    persistAfterDisconnect: row.persistAfterDisconnect,
    requiredPermissions: row.requiredPermissions as TSharedFile["requiredPermissions"],
    transportPreference: fromDbEnum(row.transportPreference),
    performance: {
      maxLatencyMicros: row.maxLatencyMicros,
      minThroughputMsgPerSec: row.minThroughputMsgPerSec,
      consistency: fromDbEnum(row.consistency),
      durability: fromDbEnum(row.durability),
    },
    layout: row.layout as unknown as TLayout,
    status: fromDbEnum(row.status),
    revision: row.revision,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

/** API model → columns. */
function toColumns(spec: TSharedFileSpec) {
  return {
    description: spec.description,
    kind: toDbEnum<SharedFileRow["kind"]>(spec.kind),
    pattern: toDbEnum<SharedFileRow["pattern"]>(spec.pattern),
    topology: toDbEnum<SharedFileRow["topology"]>(spec.topology),
    directionality: toDbEnum<SharedFileRow["directionality"]>(spec.directionality),
    serialization: toDbEnum<SharedFileRow["serialization"]>(spec.serialization),
    maxSizeBytes: spec.maxSizeBytes,
    ttlSeconds: spec.ttlSeconds,
    maxConnections: spec.maxConnections,
    creationPolicy: toDbEnum<SharedFileRow["creationPolicy"]>(spec.creationPolicy),
    existencePolicy: toDbEnum<SharedFileRow["existencePolicy"]>(spec.existencePolicy),
    autoCleanup: spec.autoCleanup,
    persistAfterDisconnect: spec.persistAfterDisconnect,
    requiredPermissions: [...spec.requiredPermissions],
    transportPreference: toDbEnum<SharedFileRow["transportPreference"]>(spec.transportPreference),
    maxLatencyMicros: spec.performance.maxLatencyMicros,
    minThroughputMsgPerSec: spec.performance.minThroughputMsgPerSec,
    consistency: toDbEnum<SharedFileRow["consistency"]>(spec.performance.consistency),
    durability: toDbEnum<SharedFileRow["durability"]>(spec.performance.durability),
    layout: spec.layout as unknown as Prisma.InputJsonValue,
  };
}

/** The audited snapshot: the model without timestamps (they change on every write and say nothing). */
function snapshot(f: TSharedFile): Omit<TSharedFile, "createdAt" | "updatedAt"> {
  const { createdAt: _c, updatedAt: _u, ...rest } = f;
  return rest;
}

/** Where-builder: the verified tenant's file called `name`. */
const fileInTenant = (ctx: TenantContext, name: string) => ({ tenantId_name: { tenantId: ctx.tenantId, name } });

function filePatternsOf(ctx: TenantContext): string[] {
  return ctx.actor.type === "API_KEY" ? ctx.actor.filePatterns : [];
}

function notFound(name: string): AppError {
  return new AppError("NOT_FOUND", `Shared file "${name}" not found`);
}

function nameTaken(name: string): AppError {
  return new AppError("CONFLICT", `A shared file named "${name}" already exists`, { fields: { name: ["A shared file with this name already exists in this tenant"] } });
}

function staleRevision(name: string, current: number, sent: number): AppError {
  return new AppError("CONFLICT", `Shared file "${name}" was changed by someone else (revision ${current}, you sent ${sent}). Reload it and apply your change again.`, {
    fields: { revision: [`Current revision is ${current}`] },
  });
}

function rulesErrors(spec: TSharedFileSpec): FieldErrors | null {
  const fields: FieldErrors = {};
  checkSharedFileRules(spec, (path, message) => (fields[path.join(".")] ??= []).push(message));
  return Object.keys(fields).length > 0 ? fields : null;
}

// ---------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------

/**
 * `timestamp(3)` (UTC, see db-hot.ts) as `Date#toISOString` formats it, e.g. 2026-11-27T22:31:00.123Z:
 * formatted by PostgreSQL, rendering a row from its columns builds no `Date` (two per file, each
 * parsed and then printed again, on the event loop that every request shares).
 */
const ISO_COLUMN = (c: string) => `to_char("${c}", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "${c}"`;

/**
 * The list query: fixed SQL text, so PostgreSQL can reuse the prepared plan (`name` below).
 * Each file comes back as its stored API form (`apiJson`, JSON text written with every change),
 * which the REST list sends as it is: PostgreSQL formats no columns (measured ~0.2 ms of its CPU
 * per page of 20 instead of ~0.7 ms building JSON from 26 columns) and the app neither parses
 * nor re-serializes the files. Keyset pagination on the `(tenantId, name)` unique index: cost
 * does not grow with the page number.
 */
const LIST_SQL = `
  SELECT "id", "name", "apiJson" FROM "SharedFile"
  WHERE "tenantId" = $1
    AND ($2::text IS NULL OR "name" > $2::text)
    AND (cardinality($3::text[]) = 0 OR "name" LIKE ANY($3::text[]))
  ORDER BY "name"
  LIMIT $4`;

/**
 * Rows whose `apiJson` is NULL (written before it existed, or changed by a writer other than
 * this service: a trigger clears it then), with their columns as one JSON text (`row_to_json`,
 * parsed by one `JSON.parse`, timestamps formatted as `Date#toISOString` does) and their `xmin`,
 * so the rendering is stored only if the row has not changed since.
 */
const UNRENDERED_SQL = `
  SELECT "xmin"::text AS "xmin", row_to_json(f)::text AS "json" FROM (
    SELECT "xmin", ${COLUMN_NAMES.map((c) => (c === "createdAt" || c === "updatedAt" ? ISO_COLUMN(c) : `"${c}"`)).join(", ")}
    FROM "SharedFile" WHERE "tenantId" = $1 AND "id" = ANY($2::text[])
  ) AS f`;

/** A page of files as their JSON texts (the API form), for the REST list to send unparsed. */
export interface SharedFileJsonPage {
  items: string[];
  nextCursor: string | null;
}

/**
 * A page of the tenant's files, by name, each as JSON text. One query on the plain `pg` pool
 * (`db-hot.ts`): this is the API's hottest read (benchmark B6), and the key's glob patterns
 * become `LIKE ANY(...)`, which the ORM cannot express anyway.
 */
export async function listSharedFilesJson(ctx: TenantContext, query: PageRequest): Promise<SharedFileJsonPage> {
  authorize(ctx, "file:read");
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  if (query.cursor && after === null) throw AppError.validation({ cursor: ["Invalid cursor: pass the nextCursor of a previous page"] });
  const likes = filePatternsOf(ctx).map(globToLike);
  const { rows } = await hotPool().query<{ id: string; name: string; apiJson: string | null }>({
    name: "commy_list_shared_files_api_json",
    text: LIST_SQL,
    values: [ctx.tenantId, after, likes, query.limit + 1],
  });
  const count = Math.min(rows.length, query.limit);
  const items: (string | undefined)[] = new Array(count);
  let unrendered: Map<string, number> | null = null;
  for (let i = 0; i < count; i++) {
    const json = rows[i]!.apiJson;
    if (json !== null) items[i] = json;
    else (unrendered ??= new Map()).set(rows[i]!.id, i);
  }
  if (unrendered) await renderUnrendered(ctx.tenantId, unrendered, items);
  // A file deleted between the two queries is left out (its slot stayed empty).
  return { items: unrendered ? items.filter((j): j is string => j !== undefined) : (items as string[]), nextCursor: rows.length > query.limit ? encodeCursor(rows[count - 1]!.name) : null };
}

/** `listSharedFilesJson` with the files parsed (tRPC, in-process callers). */
export async function listSharedFiles(ctx: TenantContext, query: PageRequest): Promise<Page<TSharedFile>> {
  const page = await listSharedFilesJson(ctx, query);
  return { items: page.items.map((j) => JSON.parse(j) as TSharedFile), nextCursor: page.nextCursor };
}

/** The JSON text of a page as `JSON.stringify(page)` of the parsed files would give it. */
export function sharedFilePageJson(page: SharedFileJsonPage): string {
  return `{"items":[${page.items.join(",")}],"nextCursor":${JSON.stringify(page.nextCursor)}}`;
}

/**
 * Renders the rows without `apiJson` from their columns into `items` (at the index `at` gives)
 * and stores the renderings in one statement, each only if its row has not changed since it was
 * read (`xmin`): a row is rendered this way at most once per change.
 */
async function renderUnrendered(tenantId: string, at: Map<string, number>, items: (string | undefined)[]): Promise<void> {
  const { rows } = await hotPool().query<{ xmin: string; json: string }>({
    name: "commy_shared_files_unrendered",
    text: UNRENDERED_SQL,
    values: [tenantId, [...at.keys()]],
  });
  const ids: string[] = [];
  const texts: string[] = [];
  for (const row of rows) {
    const file = toSharedFile(JSON.parse(row.json) as SharedFileListRow);
    const json = JSON.stringify(file);
    items[at.get(file.id)!] = json;
    ids.push(file.id);
    texts.push(json);
  }
  if (!ids.length) return;
  await hotPool().query({
    name: "commy_shared_files_store_rendered",
    text: `UPDATE "SharedFile" AS f SET "apiJson" = r."json"
      FROM unnest($1::text[], $2::xid[], $3::text[]) AS r("id", "xmin", "json")
      WHERE f."id" = r."id" AND f."xmin" = r."xmin" AND f."apiJson" IS NULL`,
    values: [ids, rows.map((r) => r.xmin), texts],
  });
}

/**
 * Stores the API form of a file just created or changed, in the writer's transaction. Raw SQL:
 * Prisma's `update` would move `updatedAt` again and make the stored form stale at once.
 */
function storeApiJson(tx: Prisma.TransactionClient, id: string, file: TSharedFile): Promise<number> {
  return tx.$executeRaw`UPDATE "SharedFile" SET "apiJson" = ${JSON.stringify(file)} WHERE "id" = ${id}`;
}

/** One file by name; NOT_FOUND when absent or outside the key's patterns. */
export async function getSharedFile(ctx: TenantContext, name: string): Promise<TSharedFile> {
  authorize(ctx, "file:read");
  if (!keyMayAccessFile(ctx.actor, name)) throw notFound(name);
  const row = await db.sharedFile.findUnique({ where: fileInTenant(ctx, name), omit: OMIT });
  if (!row) throw notFound(name);
  return toSharedFile(row);
}

// ---------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------

/** Declares a new file. VALIDATION_FAILED with field errors; CONFLICT (field `name`) when the name is taken. */
export async function createSharedFile(ctx: TenantContext, input: TSharedFileCreateInput): Promise<TSharedFile> {
  authorize(ctx, "file:create");
  const parsed = ZSharedFileCreate.safeParse(input);
  if (!parsed.success) throw AppError.validation(zodFieldErrors(parsed.error));
  const { name, ...spec } = parsed.data;
  if (!keyMayAccessFile(ctx.actor, name)) {
    throw new AppError("FORBIDDEN", `This API key may only access shared files matching: ${filePatternsOf(ctx).join(", ")}`, {
      fields: { name: ["Outside the file patterns of this API key"] },
    });
  }
  try {
    return await db.$transaction(async (tx) => {
      const row = await tx.sharedFile.create({
        data: { tenantId: ctx.tenantId, name, ...toColumns(spec), createdById: ctx.actor.type === "USER" ? ctx.actor.userId : null },
        omit: OMIT,
      });
      const file = toSharedFile(row);
      await storeApiJson(tx, row.id, file);
      await recordAudit(tx, ctx, { action: "file.created", target: { type: "sharedFile", id: row.id }, after: snapshot(file) });
      return file;
    });
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") throw nameTaken(name);
    throw e;
  }
}

/** Keys the update body may not carry, with the reason shown to the caller. */
const IMMUTABLE: Record<string, string> = {
  name: "The name cannot change (workers and clients know the file by it): create a new file instead",
  kind: "The kind cannot change (it decides the binary layout): create a new file instead",
};

/**
 * Changes a file. `revision` must be the one the caller last read: the update is a
 * compare-and-set on it, so of two concurrent editors the second gets CONFLICT instead of
 * overwriting the first. The merged result is validated with the same cross-field rules as
 * create. Bumps `revision` (workers re-sync their catalogue on it).
 */
export async function updateSharedFile(ctx: TenantContext, name: string, input: unknown): Promise<TSharedFile> {
  authorize(ctx, "file:update");
  if (typeof input === "object" && input !== null) {
    const fields: FieldErrors = {};
    for (const key of Object.keys(IMMUTABLE)) if (key in input) fields[key] = [IMMUTABLE[key]!];
    if (Object.keys(fields).length > 0) throw AppError.validation(fields);
  }
  const parsed = ZSharedFilePatch.safeParse(input);
  if (!parsed.success) throw AppError.validation(zodFieldErrors(parsed.error));
  const patch = parsed.data;
  if (!keyMayAccessFile(ctx.actor, name)) throw notFound(name);

  return db.$transaction(async (tx) => {
    const row = await tx.sharedFile.findUnique({ where: fileInTenant(ctx, name), omit: OMIT });
    if (!row) throw notFound(name);
    if (row.revision !== patch.revision) throw staleRevision(name, row.revision, patch.revision);
    const before = toSharedFile(row);
    const merged = mergeSharedFilePatch(before, patch);
    const errors = rulesErrors(merged);
    if (errors) throw AppError.validation(errors);

    // Compare-and-set on the revision: a concurrent writer that committed since our read
    // makes this match nothing.
    const updated = await tx.sharedFile.updateMany({
      where: { id: row.id, tenantId: ctx.tenantId, revision: patch.revision },
      data: { ...toColumns(merged), ...(patch.status ? { status: toDbEnum<SharedFileRow["status"]>(patch.status) } : {}), revision: { increment: 1 } },
    });
    if (updated.count !== 1) {
      const current = await tx.sharedFile.findUnique({ where: { id: row.id }, select: { revision: true } });
      throw staleRevision(name, current?.revision ?? row.revision + 1, patch.revision);
    }
    const after = toSharedFile(await tx.sharedFile.findUniqueOrThrow({ where: { id: row.id }, omit: OMIT }));
    await storeApiJson(tx, row.id, after);
    await recordAudit(tx, ctx, { action: "file.updated", target: { type: "sharedFile", id: row.id }, before: snapshot(before), after: snapshot(after) });
    return after;
  });
}

/**
 * Deletes a file (its attachments go with it). With `revision`, deletes only that revision
 * (CONFLICT otherwise), so a client can avoid deleting something it has not seen.
 */
export async function deleteSharedFile(ctx: TenantContext, name: string, opts: { revision?: number } = {}): Promise<TSharedFile> {
  authorize(ctx, "file:delete");
  if (!keyMayAccessFile(ctx.actor, name)) throw notFound(name);
  return db.$transaction(async (tx) => {
    const row = await tx.sharedFile.findUnique({ where: fileInTenant(ctx, name), omit: OMIT });
    if (!row) throw notFound(name);
    if (opts.revision !== undefined && row.revision !== opts.revision) throw staleRevision(name, row.revision, opts.revision);
    const deleted = await tx.sharedFile.deleteMany({ where: { id: row.id, tenantId: ctx.tenantId, revision: row.revision } });
    if (deleted.count !== 1) throw staleRevision(name, row.revision + 1, opts.revision ?? row.revision);
    const before = toSharedFile(row);
    await recordAudit(tx, ctx, { action: "file.deleted", target: { type: "sharedFile", id: row.id }, before: snapshot(before) });
    return before;
  });
}
