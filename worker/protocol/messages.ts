/**
 * Bodies of the local socket protocol's messages (docs/spec/socket-protocol.md) and its stable
 * error codes. Shared by the worker and the client library; every body received is parsed with
 * these schemas before anything acts on it.
 */
import { z } from "zod";
import {
  AttachmentSideSchema,
  ConsistencySchema,
  CreationPolicySchema,
  DurabilitySchema,
  ExistencePolicySchema,
  SerializationSchema,
  SharedFileKindSchema,
  TransportPreferenceSchema,
  TransportSchema,
} from "../../src/server/contracts/worker";

/**
 * Stable error codes. Clients switch on these, so they are part of the contract: add codes,
 * never change what one means.
 */
export const SOCKET_ERROR_CODES = [
  /** Frame could not be parsed (bad magic, unknown type, bad msgpack). Framing errors end the connection. */
  "PROTOCOL_ERROR",
  "UNSUPPORTED_VERSION",
  "FRAME_TOO_LARGE",
  /** The body did not match the message's schema; `details.fields` says which fields. */
  "BAD_MESSAGE",
  /** A message other than HELLO before authentication, or a second HELLO. */
  "NOT_AUTHENTICATED",
  "API_KEY_INVALID",
  "API_KEY_REVOKED",
  "API_KEY_EXPIRED",
  /** The key lacks a scope, a required permission, or no name pattern matches the file. */
  "FORBIDDEN",
  /** No shared file of that name in the tenant's catalogue (also: another tenant's file). */
  "FILE_NOT_FOUND",
  /** Existence policy MUST_NOT_EXIST and the mapping exists on this node. */
  "FILE_EXISTS",
  /** Existence policy MUST_EXIST / CONNECT_ONLY or creation policy NEVER_CREATE and no mapping on this node. */
  "FILE_ABSENT",
  /** CONNECT_ONLY and no other live attachment to connect to. */
  "NO_PEER",
  "MAX_CONNECTIONS",
  /** The file's layout needs more bytes than its max size. */
  "MAX_SIZE_EXCEEDED",
  /** The file's TTL ran out (EVENT) or it is not ACTIVE in the catalogue. */
  "FILE_EXPIRED",
  /** The requested transport cannot be honoured on this node (e.g. NETWORK_ONLY without a network bridge). */
  "TRANSPORT_UNAVAILABLE",
  "TOO_MANY_ATTACHMENTS",
  "TOO_MANY_SESSIONS",
  "NOT_ATTACHED",
  /** The worker is draining or stopping: reconnect to another worker or retry later. */
  "DRAINING",
  /** The worker cannot reach the control plane and has nothing cached to decide with. */
  "UNAVAILABLE",
  /** The node was revoked: the worker stops serving. */
  "NODE_REVOKED",
  "FD_TICKET_INVALID",
  "INTERNAL",
] as const;
export type SocketErrorCode = (typeof SOCKET_ERROR_CODES)[number];
export const SocketErrorCodeSchema = z.enum(SOCKET_ERROR_CODES);

const id = z.string().min(1).max(128);

export const HelloSchema = z.object({
  protocol: z.literal(1),
  apiKey: z.string().min(1).max(512),
  pid: z.number().int().nonnegative(),
  client: z.string().max(100).optional(),
});
export type Hello = z.infer<typeof HelloSchema>;

export const WelcomeSchema = z.object({
  sessionId: id,
  nodeId: z.string(),
  tenantId: z.string(),
  workerVersion: z.string(),
  heartbeatIntervalMs: z.number().int().positive(),
  maxBody: z.number().int().positive(),
  scopes: z.array(z.string()),
});
export type Welcome = z.infer<typeof WelcomeSchema>;

export const OpenSchema = z.object({
  name: z.string().min(1).max(200),
  side: AttachmentSideSchema,
  /** Consumer group (stream files, CONSUMER side): members share the messages, see LEASE. */
  group: z.string().min(1).max(100).optional(),
  /** Per-open overrides of the file's declared policies. */
  creationPolicy: CreationPolicySchema.optional(),
  existencePolicy: ExistencePolicySchema.optional(),
  transport: TransportPreferenceSchema.optional(),
  performance: z
    .object({
      maxLatencyMicros: z.number().int().positive().optional(),
      minThroughputMsgPerSec: z.number().int().positive().optional(),
      consistency: ConsistencySchema.optional(),
      durability: DurabilitySchema.optional(),
    })
    .optional(),
});
export type Open = z.infer<typeof OpenSchema>;

export const OpenedSchema = z.object({
  attachmentId: id,
  fileId: z.string(),
  name: z.string(),
  kind: SharedFileKindSchema,
  serialization: SerializationSchema,
  side: AttachmentSideSchema,
  /** True when the fd (and so the mapping) is read-only: the kernel refuses writes. */
  readOnly: z.boolean(),
  transport: TransportSchema,
  /** Why this transport: shown to users and recorded on the attachment. */
  reason: z.string(),
  /** Whether this open created (or recreated) the mapping on this node. */
  created: z.boolean(),
  revision: z.number().int(),
  /** The consumer group joined, when OPEN asked for one. */
  group: z.string().optional(),
  /** One-time ticket redeemed with FETCH_FD on a second connection to receive the fd. */
  fdTicket: z.string(),
  layout: z.unknown(),
});
export type Opened = z.infer<typeof OpenedSchema>;

/** A half-open range of stream sequence numbers [from, to). */
const RangeSchema = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]);
/**
 * Consumer groups: a member asks for up to `max` messages and acknowledges the ranges it has
 * finished. The worker hands out each sequence number to one member at a time; ranges leased to
 * a member that goes away unacknowledged are handed to the next member who asks (at-least-once).
 */
export const LeaseSchema = z.object({ attachmentId: id, max: z.number().int().min(0).max(65536), ack: z.array(RangeSchema).max(1024).default([]) });
export const LeasedSchema = z.object({ ranges: z.array(RangeSchema), head: z.number().int().nonnegative() });
export type Leased = z.infer<typeof LeasedSchema>;

export const CloseSchema = z.object({ attachmentId: id });
export const ClosedSchema = z.object({ attachmentId: id });
export const HeartbeatSchema = z.object({}).passthrough();
export const HeartbeatAckSchema = z.object({ now: z.number() });

export const ErrorBodySchema = z.object({
  code: SocketErrorCodeSchema,
  message: z.string(),
  retryable: z.boolean().default(false),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** Unsolicited worker → client notifications (requestId 0). */
export const EventSchema = z.discriminatedUnion("event", [
  z.object({ event: z.literal("attachment-closed"), attachmentId: id, code: SocketErrorCodeSchema, message: z.string() }),
  z.object({ event: z.literal("session-closing"), code: SocketErrorCodeSchema, message: z.string() }),
]);
export type WorkerEvent = z.infer<typeof EventSchema>;

export const FetchFdSchema = z.object({ ticket: z.string().min(1).max(128) });
export const FdSchema = z.object({ attachmentId: id, readOnly: z.boolean() });

/** Field path → messages from a zod error, for BAD_MESSAGE details. */
export function fieldErrors(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.join(".") : "(body)";
    (out[key] ??= []).push(issue.message);
  }
  return out;
}
