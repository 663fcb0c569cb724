/**
 * The data API: shared-file data for clients without a local worker, through Redis.
 *
 * - Writes (variable write, stream publish) go through the control plane's RouteProducer: a
 *   frame on the file's stream with the control plane's own node id, applied by every worker
 *   like any node's write. The call returns once Redis holds the frame.
 * - Stream reads are XRANGE over the file's stream, frames decoded with routing's codec.
 * - Variable reads come from the file's snapshot hash in Redis (`readVariableSnapshot`: latest
 *   value per slot by HLC, last writer wins, updated atomically with each frame's XADD), falling
 *   back to the newest write in the retained stream for values written before snapshots existed.
 *
 * Same rules as the rest of the API: the permission matrix (`file:data:read`/`file:data:write`,
 * key scopes `data:read`/`data:write`), the key's file-name patterns, tenant scoping (another
 * tenant's file name is 404), and audit of every write (`data.variable_written`,
 * `data.published`). Payloads follow the file's serialization: JSON files take and give a JSON
 * `value`; msgpack, cbor and raw files take and give `base64` bytes. Sizes are bounded by the
 * file's layout (slot maxSize, stream messageMaxSize).
 */
import { compareStamps, decodeFrame, fileKeys, isConnectionError, readVariableSnapshot, type FileRef, type HlcStamp, type RoutedRecord } from "../../../routing";
import type { TenantContext } from "~/server/actor";
import { authorize } from "~/server/actor";
import { recordAudit } from "~/server/audit";
import type { TDeadLetter, TStreamRecord, TVariableValue, TWriteResult } from "~/server/contracts/routing";
import { db } from "~/server/db";
import { AppError } from "~/server/errors";
import { findFileForRead } from "./file-routes";
import { routing, routingUnavailable, type RoutingHandle } from "./routing-client";

type FileRow = Awaited<ReturnType<typeof findFileForRead>>;

const WRITE_CONFIRM_MS = 5000;

function refOf(file: FileRow): FileRef {
  return { tenantId: file.tenantId, fileId: file.id };
}

function slotsOf(file: FileRow): { name: string; maxSize: number }[] {
  const layout = file.layout as { slots?: { name: string; maxSize: number }[] } | null;
  return Array.isArray(layout?.slots) ? layout.slots : [];
}

function messageMaxSize(file: FileRow): number {
  const layout = file.layout as { messageMaxSize?: number } | null;
  return typeof layout?.messageMaxSize === "number" ? layout.messageMaxSize : file.maxSizeBytes;
}

function requireKind(file: FileRow, kind: "VARIABLES" | "STREAM"): void {
  if (file.kind !== kind) {
    throw new AppError("BAD_REQUEST", `Shared file "${file.name}" is a ${file.kind.toLowerCase()} file; this operation needs a ${kind.toLowerCase()} file`);
  }
}

function slotOf(file: FileRow, slot: string): { name: string; maxSize: number } {
  const found = slotsOf(file).find((s) => s.name === slot);
  if (!found) throw new AppError("SLOT_NOT_FOUND", `Shared file "${file.name}" has no variable slot "${slot}"`);
  return found;
}

async function routingOr503(): Promise<RoutingHandle> {
  return routing();
}

/** Redis command failures (down, timeouts) become ROUTING_UNAVAILABLE; the rest is rethrown. */
async function redisCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof AppError) throw e;
    if (isConnectionError(e)) throw routingUnavailable((e as Error).message);
    throw e;
  }
}

// ---------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------

/** Request payload → bytes, by the file's serialization. */
export function encodePayload(file: FileRow, input: { value?: unknown; base64?: string }, maxBytes: number): Uint8Array {
  let bytes: Uint8Array;
  if (file.serialization === "JSON") {
    if (input.base64 !== undefined) throw AppError.validation({ base64: ["This file's serialization is json: send `value` (any JSON value), not base64"] });
    if (!("value" in input) || input.value === undefined) throw AppError.validation({ value: ["Send the value to write (any JSON value)"] });
    bytes = Buffer.from(JSON.stringify(input.value), "utf8");
  } else {
    if (input.value !== undefined) {
      throw AppError.validation({ value: [`This file's serialization is ${file.serialization.toLowerCase()}: send the encoded bytes as \`base64\``] });
    }
    if (input.base64 === undefined) throw AppError.validation({ base64: ["Send the encoded bytes as base64"] });
    bytes = Buffer.from(input.base64, "base64");
  }
  if (bytes.byteLength > maxBytes) {
    throw new AppError("PAYLOAD_TOO_LARGE", `The payload is ${bytes.byteLength} bytes; this ${file.kind === "VARIABLES" ? "slot" : "stream"} holds at most ${maxBytes}`, {
      fields: { [file.serialization === "JSON" ? "value" : "base64"]: [`At most ${maxBytes} bytes (encoded), got ${bytes.byteLength}`] },
    });
  }
  return bytes;
}

/** Stored bytes → response fields, by the file's serialization. */
export function decodePayload(serialization: string, payload: Uint8Array): { value?: unknown; base64?: string } {
  if (serialization === "JSON") {
    try {
      return { value: JSON.parse(Buffer.from(payload).toString("utf8")) as unknown };
    } catch {
      return { base64: Buffer.from(payload).toString("base64") };
    }
  }
  return { base64: Buffer.from(payload).toString("base64") };
}

// ---------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------

async function confirm(h: RoutingHandle): Promise<void> {
  const droppedBefore = h.producer.stats().dropped;
  let timer: NodeJS.Timeout | undefined;
  const confirmed = await Promise.race([
    h.producer.flush().then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), WRITE_CONFIRM_MS))),
  ]);
  clearTimeout(timer);
  if (!confirmed) throw routingUnavailable("Redis did not confirm the write in time");
  if (h.producer.stats().dropped > droppedBefore) throw routingUnavailable("Redis is unreachable; the write was not delivered");
}

function ensureHealthy(h: RoutingHandle): void {
  if (!h.producer.stats().healthy) throw routingUnavailable("Redis is unreachable");
}

/** Writes a variable through Redis; every node applies it (last writer wins by HLC). */
export async function writeVariable(ctx: TenantContext, name: string, slot: string, input: { value?: unknown; base64?: string }): Promise<TWriteResult> {
  authorize(ctx, "file:data:write");
  const file = await findFileForRead(ctx, name);
  requireKind(file, "VARIABLES");
  const s = slotOf(file, slot);
  const payload = encodePayload(file, input, s.maxSize);
  const h = await routingOr503();
  ensureHealthy(h);
  const ref = refOf(file);
  const stamp: HlcStamp = h.producer.writeVariable(ref, slot, payload);
  const seq = h.producer.fileProgress(ref).enqueued;
  await confirm(h);
  const result = { nodeId: h.nodeId, epoch: h.producer.epoch, seq, stamp };
  await db.$transaction((tx) =>
    recordAudit(tx, ctx, { action: "data.variable_written", target: { type: "sharedFile", id: file.id }, after: { slot, bytes: payload.byteLength, ...result } }),
  );
  return result;
}

/** Publishes a message to a stream file through Redis. */
export async function publishMessage(ctx: TenantContext, name: string, input: { value?: unknown; base64?: string; subject?: string }): Promise<TWriteResult> {
  authorize(ctx, "file:data:write");
  const file = await findFileForRead(ctx, name);
  requireKind(file, "STREAM");
  const payload = encodePayload(file, input, messageMaxSize(file));
  const h = await routingOr503();
  ensureHealthy(h);
  const ref = refOf(file);
  h.producer.publish(ref, payload, input.subject ?? "");
  const seq = h.producer.fileProgress(ref).enqueued;
  await confirm(h);
  const result = { nodeId: h.nodeId, epoch: h.producer.epoch, seq, stamp: null };
  await db.$transaction((tx) =>
    recordAudit(tx, ctx, { action: "data.published", target: { type: "sharedFile", id: file.id }, after: { subject: input.subject ?? "", bytes: payload.byteLength, ...result } }),
  );
  return result;
}

// ---------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------

type XEntry = [Buffer, Buffer[]];

function toRecord(serialization: string, r: RoutedRecord): TStreamRecord {
  return {
    streamId: r.streamId,
    index: r.index,
    kind: r.kind,
    name: r.name,
    origin: r.origin,
    epoch: r.epoch,
    seq: r.seq,
    sentAt: new Date(r.sentAt).toISOString(),
    ...decodePayload(serialization, r.payload),
  };
}

/**
 * Reads stream entries from an id (inclusive `from`, or exclusive `cursor` = a previous page's
 * nextCursor), `limit` entries per page. Undecodable entries are skipped (they are dead-lettered
 * by the consumers).
 */
export async function readMessages(
  ctx: TenantContext,
  name: string,
  query: { from?: string; cursor?: string; limit: number },
): Promise<{ items: TStreamRecord[]; nextCursor: string | null }> {
  authorize(ctx, "file:data:read");
  const file = await findFileForRead(ctx, name);
  const h = await routingOr503();
  const start = query.cursor ? `(${query.cursor}` : (query.from ?? "-");
  const entries = (await redisCall(() => h.redis.xrangeBuffer(fileKeys(refOf(file)).stream, start, "+", "COUNT", query.limit))) as unknown as XEntry[];
  const items: TStreamRecord[] = [];
  for (const [id, fields] of entries) {
    try {
      for (const r of decodeFrame(id.toString(), fields)) items.push(toRecord(file.serialization, r));
    } catch {
      /* undecodable: the consumers dead-letter it */
    }
  }
  const last = entries.length ? entries[entries.length - 1]![0].toString() : (query.cursor ?? null);
  return { items, nextCursor: last };
}

const SCAN_PAGE = 256;
const SCAN_MAX_ENTRIES = 4096;

/** Newest write of `slot` in the retained stream (by HLC), for files without a snapshot yet. */
async function latestFromStream(h: RoutingHandle, file: FileRow, slot: string): Promise<RoutedRecord | null> {
  const stream = fileKeys(refOf(file)).stream;
  let end = "+";
  let best: RoutedRecord | null = null;
  for (let seen = 0; seen < SCAN_MAX_ENTRIES; ) {
    const entries = (await redisCall(() => h.redis.xrevrangeBuffer(stream, end, "-", "COUNT", SCAN_PAGE))) as unknown as XEntry[];
    if (!entries.length) break;
    seen += entries.length;
    for (const [id, fields] of entries) {
      let records: RoutedRecord[];
      try {
        records = decodeFrame(id.toString(), fields);
      } catch {
        continue;
      }
      for (const r of records) if (r.kind === "variable" && r.name === slot && r.hlc && (!best || compareStamps(r.hlc, best.hlc!) > 0)) best = r;
    }
    // Stamps follow wall time closely: once a page older than the best is done, stop.
    if (best) break;
    end = `(${entries[entries.length - 1]![0].toString()}`;
    if (entries.length < SCAN_PAGE) break;
  }
  return best;
}

/** The current value of a variable slot, as Redis holds it. */
export async function readVariable(ctx: TenantContext, name: string, slot: string): Promise<TVariableValue> {
  authorize(ctx, "file:data:read");
  const file = await findFileForRead(ctx, name);
  requireKind(file, "VARIABLES");
  slotOf(file, slot);
  const h = await routingOr503();
  const snap = await redisCall(() => readVariableSnapshot(h.redis, refOf(file), slot));
  if (snap) return { slot, present: true, serialization: file.serialization.toLowerCase(), stamp: snap.stamp, ...decodePayload(file.serialization, snap.payload) };
  const latest = await latestFromStream(h, file, slot);
  if (!latest) return { slot, present: false, serialization: file.serialization.toLowerCase(), stamp: null };
  return { slot, present: true, serialization: file.serialization.toLowerCase(), stamp: latest.hlc!, ...decodePayload(file.serialization, latest.payload) };
}

/** Entries of the file's dead-letter stream, newest first. */
export async function listDeadLetters(ctx: TenantContext, name: string, limit = 50): Promise<{ total: number; streamLength: number; items: TDeadLetter[] }> {
  authorize(ctx, "file:data:read");
  const file = await findFileForRead(ctx, name);
  const h = await routingOr503();
  const keys = fileKeys(refOf(file));
  const [entries, total, streamLength] = await redisCall(() =>
    Promise.all([
      h.redis.xrevrange(keys.dlq, "+", "-", "COUNT", Math.min(Math.max(limit, 1), 200)),
      h.redis.xlen(keys.dlq),
      h.redis.xlen(keys.stream),
    ]),
  );
  const items = (entries as [string, string[]][]).map(([id, flat]): TDeadLetter => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const k = flat[i]!;
      // payload and raw frame bytes are binary: show their size, not mojibake
      fields[k] = k === "p" || k === "raw" ? `${Buffer.byteLength(flat[i + 1]!, "binary")} bytes` : flat[i + 1]!.slice(0, 500);
    }
    const at = Number(fields.at);
    return {
      id,
      at: Number.isFinite(at) && at > 0 ? new Date(at).toISOString() : null,
      sourceId: fields.src ?? null,
      node: fields.node ?? null,
      error: fields.err ?? null,
      attempts: fields.a !== undefined && /^\d+$/.test(fields.a) ? Number(fields.a) : null,
      fields,
    };
  });
  return { total, streamLength, items };
}
