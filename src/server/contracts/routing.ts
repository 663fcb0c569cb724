/**
 * Cross-node routing as the API shows it: each node's current transport decision for a file
 * ("why does this file use the network?"), the short stats history behind the dashboard's
 * charts, and the data API (variables and stream messages through Redis, for clients without a
 * local worker).
 *
 * Pure module (zod only): the UI imports it too.
 */
import { z } from "zod";
import type { AuditAction } from "../audit/actions";
import { ZName, ZTimestamp } from "./common";
import { TransportSchema } from "./worker";

/** The worker contract's enum (one list of transports), described for the OpenAPI document. */
export const ZTransport = TransportSchema.meta({ description: "SHARED_MEMORY (the mapping), NETWORK (Redis) or HYBRID (both)." });
export const ZRouteStatus = z.enum(["ok", "degraded", "refused"]);

const rate = z.number().nonnegative();
export const ZTransportStats = z.object({
  messagesPerSec: rate,
  bytesPerSec: rate,
  latencyP50Us: rate.nullable(),
  latencyP99Us: rate.nullable(),
  messagesTotal: z.number().int().nonnegative(),
});

export const ZRouteStats = z.object({
  sharedMemory: ZTransportStats,
  network: ZTransportStats,
  streamLagMs: rate.nullable().meta({ description: "Age of the newest frame this node applied when it applied it, ms." }),
  pendingFrames: z.number().int().nonnegative(),
  deadLetters: z.number().int().nonnegative(),
  backlog: z.number().int().nonnegative(),
});
export type TRouteStats = z.infer<typeof ZRouteStats>;

/** One node's current decision for one file. */
export const ZFileRoute = z.object({
  nodeId: z.string(),
  nodeName: z.string(),
  transport: ZTransport.nullable().meta({ description: "null when the selection refused (see reasonCode)." }),
  status: ZRouteStatus,
  reasonCode: z.string().meta({ example: "REMOTE_PEERS" }),
  reason: z.string().meta({ description: "Why this transport, in a sentence.", example: "2 peers on other hosts: node-b, node-c" }),
  inputs: z.record(z.string(), z.unknown()).meta({ description: "What the decision was made from: peers, preference, measurements, health." }),
  colocatedPeers: z.array(z.string()),
  remotePeers: z.array(z.string()),
  degradedPeers: z.array(z.string()),
  warnings: z.array(z.string()),
  stats: ZRouteStats.nullable(),
  decidedAt: ZTimestamp,
  reportedAt: ZTimestamp,
});
export type TFileRoute = z.infer<typeof ZFileRoute>;

export const ZFileRoutes = z.object({
  sharedFileId: z.string(),
  name: z.string(),
  transportPreference: z.string(),
  routes: z.array(ZFileRoute),
});
export type TFileRoutes = z.infer<typeof ZFileRoutes>;

/** One point of a chart: what one node reported for one file at one time. */
export const ZRouteSample = z.object({
  at: ZTimestamp,
  nodeId: z.string(),
  transport: ZTransport.nullable(),
  stats: ZRouteStats,
});
export type TRouteSample = z.infer<typeof ZRouteSample>;

// ---------------------------------------------------------------------------
// Data API
// ---------------------------------------------------------------------------

export const ZSlotParam = z.object({
  name: ZName,
  slot: z.string().min(1).max(40).meta({ description: "Variable slot name.", example: "celsius" }),
});

/**
 * A payload in a request: `value` for JSON files (any JSON value), `base64` for msgpack, cbor
 * and raw files (the encoded bytes). Exactly one.
 */
export const ZPayloadIn = z.object({
  value: z.unknown().optional().meta({ description: "JSON files: the value (any JSON)." }),
  base64: z
    .string()
    .max(24 << 20)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, { message: "Must be standard base64" })
    .optional()
    .meta({ description: "msgpack, cbor and raw files: the encoded bytes, base64." }),
});

export const ZVariableWrite = ZPayloadIn;
export const ZMessagePublish = ZPayloadIn.extend({
  subject: z.string().max(200).default("").meta({ description: "Optional subject (empty by default)." }),
});

export const ZHlcStamp = z.object({ wallMs: z.number().int(), counter: z.number().int(), nodeId: z.string() });

export const ZVariableValue = z.object({
  slot: z.string(),
  present: z.boolean().meta({ description: "false when nothing was written through Redis yet." }),
  serialization: z.string(),
  value: z.unknown().optional().meta({ description: "JSON files: the value." }),
  base64: z.string().optional().meta({ description: "Other serializations (or undecodable JSON): the bytes, base64." }),
  stamp: ZHlcStamp.nullable().meta({ description: "HLC stamp of the write (last writer wins)." }),
});
export type TVariableValue = z.infer<typeof ZVariableValue>;

export const ZWriteResult = z.object({
  nodeId: z.string().meta({ description: "The control plane's routing node id (origin of the frame)." }),
  epoch: z.string(),
  seq: z.number().int(),
  stamp: ZHlcStamp.nullable(),
});
export type TWriteResult = z.infer<typeof ZWriteResult>;

export const STREAM_ID_PATTERN = /^\d{1,20}-\d{1,20}$/;
export const ZMessagesQuery = z.object({
  from: z
    .string()
    .regex(STREAM_ID_PATTERN, { message: "A stream id such as 1700000000000-0" })
    .optional()
    .meta({ description: "First stream id to return (inclusive); default: the oldest retained." }),
  cursor: z
    .string()
    .regex(STREAM_ID_PATTERN, { message: "Pass the nextCursor of a previous page" })
    .optional()
    .meta({ description: "The previous page's nextCursor (exclusive); wins over `from`." }),
  limit: z.coerce.number().int().min(1).max(500).default(100).meta({ description: "Stream entries (frames) per page, 1–500 (default 100)." }),
});

export const ZStreamRecord = z.object({
  streamId: z.string(),
  index: z.number().int().meta({ description: "Record index inside its frame." }),
  kind: z.enum(["message", "variable"]),
  name: z.string().meta({ description: "Subject (messages) or slot name (variables)." }),
  origin: z.string(),
  epoch: z.string(),
  seq: z.number().int(),
  sentAt: ZTimestamp,
  value: z.unknown().optional(),
  base64: z.string().optional(),
});
export type TStreamRecord = z.infer<typeof ZStreamRecord>;

export const ZMessagesPage = z.object({
  items: z.array(ZStreamRecord),
  nextCursor: z.string().nullable().meta({ description: "Id of the last entry read: pass it as `cursor` to read on (also to poll for newer ones)." }),
});

export const ZDeadLetter = z.object({
  id: z.string(),
  at: ZTimestamp.nullable(),
  sourceId: z.string().nullable(),
  node: z.string().nullable(),
  error: z.string().nullable(),
  attempts: z.number().int().nullable(),
  fields: z.record(z.string(), z.string()),
});
export type TDeadLetter = z.infer<typeof ZDeadLetter>;

// ---------------------------------------------------------------------------
// Event feed
// ---------------------------------------------------------------------------

/** Audit actions in the tenant event feed (plus every DENIED event, whatever its action). */
export const FEED_ACTIONS = [
  "file.created",
  "file.updated",
  "file.deleted",
  "file.expired",
  "attachment.opened",
  "attachment.closed",
  "transport.selected",
  "transport.switched",
  "transport.failed",
  "data.variable_written",
  "data.published",
  "apikey.auth_failed",
  "node.joined",
  "node.revoked",
  "node.drained",
] as const satisfies readonly AuditAction[]; // a subset of the audit actions: a typo fails to compile

/** What one server-sent event carries (`data:`); its `id:` is `seq`, its `event:` is `action`. */
export interface TFeedEvent {
  seq: number;
  action: string;
  occurredAt: string;
  outcome: string;
  actorType: string;
  actorLabel: string | null;
  targetType: string | null;
  targetId: string | null;
  after: unknown;
  before: unknown;
}
