/**
 * The worker ↔ control-plane contract (docs/spec/worker-api.md).
 *
 * Imported by both sides: the control plane's route handlers under `src/app/api/worker/**` and
 * the worker daemon under `worker/`. It must stay a leaf module (zod only): the worker runs on
 * other hosts and never loads the control plane's services or database client.
 */
import { z } from "zod";

// ---------------------------------------------------------------------------------------------
// Shared-file request model, as the worker sees it (the Prisma enum names are the wire values)
// ---------------------------------------------------------------------------------------------

export const SharedFileKindSchema = z.enum(["VARIABLES", "STREAM"]);
export const SharedFilePatternSchema = z.enum(["ONE_WAY", "REQUEST_RESPONSE", "PUBLISH_SUBSCRIBE", "QUEUE", "OBSERVER", "BLACKBOARD", "PIPELINE"]);
export const TopologySchema = z.enum(["ONE_TO_ONE", "ONE_TO_MANY", "MANY_TO_ONE", "MANY_TO_MANY"]);
export const DirectionalitySchema = z.enum(["PRODUCER_TO_CONSUMER", "BIDIRECTIONAL"]);
export const SerializationSchema = z.enum(["JSON", "MSGPACK", "CBOR", "RAW"]);
export const CreationPolicySchema = z.enum(["CREATE", "CREATE_IF_ABSENT", "NEVER_CREATE"]);
export const ExistencePolicySchema = z.enum(["MUST_NOT_EXIST", "MAY_EXIST", "MUST_EXIST", "CONNECT_ONLY"]);
export const TransportPreferenceSchema = z.enum(["AUTO", "PREFER_LOCAL", "PREFER_NETWORK", "LOCAL_ONLY", "NETWORK_ONLY", "ADAPTIVE"]);
export const ConsistencySchema = z.enum(["EVENTUAL", "STRONG"]);
export const DurabilitySchema = z.enum(["MEMORY", "DURABLE"]);
export const SharedFileStatusSchema = z.enum(["ACTIVE", "EXPIRED", "ARCHIVED"]);
export const AttachmentSideSchema = z.enum(["PRODUCER", "CONSUMER"]);
export const TransportSchema = z.enum(["SHARED_MEMORY", "NETWORK", "HYBRID"]);

export type SharedFileKind = z.infer<typeof SharedFileKindSchema>;
export type Serialization = z.infer<typeof SerializationSchema>;
export type CreationPolicy = z.infer<typeof CreationPolicySchema>;
export type ExistencePolicy = z.infer<typeof ExistencePolicySchema>;
export type TransportPreference = z.infer<typeof TransportPreferenceSchema>;
export type AttachmentSide = z.infer<typeof AttachmentSideSchema>;
export type Transport = z.infer<typeof TransportSchema>;

/** A variables file's slots. Names are the keys clients read and write. */
export const VariablesLayoutSchema = z.object({
  slots: z
    .array(z.object({ name: z.string().min(1).max(40), maxSize: z.number().int().min(1).max(16 << 20) }))
    .min(1)
    .max(65536),
});
/** A stream file's ring. `overflow` decides what a full ring does: drop the oldest or refuse. */
export const StreamLayoutSchema = z.object({
  messageMaxSize: z.number().int().min(1).max(1 << 20),
  capacity: z.number().int().min(2).max(1 << 24),
  overflow: z.enum(["overwrite", "refuse"]).default("overwrite"),
  maxConsumers: z.number().int().min(1).max(256).default(64),
});
export type VariablesLayout = z.infer<typeof VariablesLayoutSchema>;
export type StreamLayout = z.infer<typeof StreamLayoutSchema>;

/** One shared file in a node's catalogue: everything the worker needs to enforce it. */
export const CatalogueFileSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: SharedFileKindSchema,
  pattern: SharedFilePatternSchema,
  topology: TopologySchema,
  directionality: DirectionalitySchema,
  serialization: SerializationSchema,
  maxSizeBytes: z.number().int().positive(),
  ttlSeconds: z.number().int().positive().nullable(),
  maxConnections: z.number().int().positive().nullable(),
  creationPolicy: CreationPolicySchema,
  existencePolicy: ExistencePolicySchema,
  autoCleanup: z.boolean(),
  persistAfterDisconnect: z.boolean(),
  requiredPermissions: z.array(z.string()),
  transportPreference: TransportPreferenceSchema,
  maxLatencyMicros: z.number().int().nullable(),
  minThroughputMsgPerSec: z.number().int().nullable(),
  consistency: ConsistencySchema,
  durability: DurabilitySchema,
  /** Raw JSON; the worker validates it with the kind's layout schema when it maps the file. */
  layout: z.unknown(),
  status: SharedFileStatusSchema,
  revision: z.number().int(),
  updatedAt: z.string(),
});
export type CatalogueFile = z.infer<typeof CatalogueFileSchema>;

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/** Labels: small string map, used for placement and shown in the UI. */
export const LabelsSchema = z.record(z.string().min(1).max(63), z.string().max(255)).refine((l) => Object.keys(l).length <= 32, "at most 32 labels");

/** What a worker knows about its host; used to decide whether two attachments can share memory. */
export const CapabilitiesSchema = z.object({
  /** Bytes available in /dev/shm (statfs), 0 when unknown. */
  shmBytes: z.number().int().nonnegative(),
  /** Inode of /proc/self/ns/ipc: processes in the same IPC namespace can share mappings. */
  ipcNamespace: z.string().max(64),
  /** /proc/sys/kernel/random/boot_id: together with the namespace it identifies a host boot. */
  bootId: z.string().max(64),
  platform: z.string().max(32),
  arch: z.string().max(32),
  cpus: z.number().int().nonnegative(),
});
export type Capabilities = z.infer<typeof CapabilitiesSchema>;

export const JoinRequestSchema = z.object({
  token: z.string().min(10).max(200),
  /** Defaults to the hostname. Unique per tenant. */
  name: z.string().min(1).max(100).optional(),
  hostname: z.string().min(1).max(255),
  version: z.string().min(1).max(64),
  labels: LabelsSchema.default({}),
  capabilities: CapabilitiesSchema,
});
export type JoinRequest = z.infer<typeof JoinRequestSchema>;

export const JoinResponseSchema = z.object({
  nodeId: z.string(),
  tenantId: z.string(),
  name: z.string(),
  /** Secret shown once: the worker keeps it in its state directory (0600). */
  credential: z.string(),
  heartbeatIntervalMs: z.number().int().positive(),
});
export type JoinResponse = z.infer<typeof JoinResponseSchema>;

/** One live attachment as reported by a worker. */
export const AttachmentReportSchema = z.object({
  /** Worker-generated id, stable for the attachment's life. */
  id: z.string().min(1).max(64),
  sharedFileId: z.string(),
  pid: z.number().int().nonnegative(),
  side: AttachmentSideSchema,
  transport: TransportSchema,
  reason: z.string().max(500),
  apiKeyId: z.string().nullable(),
  since: z.string(),
});
export type AttachmentReport = z.infer<typeof AttachmentReportSchema>;

export const WorkerRunStateSchema = z.enum(["starting", "running", "draining", "stopped", "failed"]);

export const HeartbeatRequestSchema = z.object({
  state: WorkerRunStateSchema,
  version: z.string().max(64),
  settingsVersion: z.number().int().nonnegative(),
  catalogueEtag: z.string().max(200).nullable(),
  stats: z.object({
    sessions: z.number().int().nonnegative(),
    attachments: z.number().int().nonnegative(),
    mappedBytes: z.number().nonnegative(),
  }),
});
export type HeartbeatRequest = z.infer<typeof HeartbeatRequestSchema>;

export const NodeStatusSchema = z.enum(["ACTIVE", "DRAINING", "REVOKED"]);
export const HeartbeatResponseSchema = z.object({
  nodeStatus: NodeStatusSchema,
  heartbeatIntervalMs: z.number().int().positive(),
  /** Latest active settings version: the worker fetches settings when it differs from its own. */
  settingsVersion: z.number().int().nonnegative(),
  serverTime: z.string(),
});
export type HeartbeatResponse = z.infer<typeof HeartbeatResponseSchema>;

export const CatalogueResponseSchema = z.object({
  etag: z.string(),
  files: z.array(CatalogueFileSchema),
});
export type CatalogueResponse = z.infer<typeof CatalogueResponseSchema>;

/**
 * Tenant-wide worker settings. Every field has a default, so an empty object (no settings saved
 * yet) is a complete configuration; workers apply a new version without restarting.
 */
export const WorkerSettingsSchema = z.object({
  heartbeatIntervalMs: z.number().int().min(1000).max(60_000).default(5000),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
  /** Most client sessions one worker accepts at a time. */
  maxSessions: z.number().int().min(1).max(100_000).default(1024),
  /** Most attachments one client session may hold. */
  maxAttachmentsPerSession: z.number().int().min(1).max(10_000).default(256),
  /** How long the worker trusts a verified API key before asking again (revocation latency). */
  apiKeyCacheMs: z.number().int().min(0).max(5000).default(2000),
  /** How often the catalogue is polled. */
  cataloguePollMs: z.number().int().min(250).max(5000).default(2000),
});
export type WorkerSettings = z.infer<typeof WorkerSettingsSchema>;

export const SettingsResponseSchema = z.object({
  version: z.number().int().nonnegative(),
  settings: WorkerSettingsSchema,
});
export type SettingsResponse = z.infer<typeof SettingsResponseSchema>;

export const VerifyKeyRequestSchema = z.object({ apiKey: z.string().min(1).max(512) });
export const VerifyKeyResponseSchema = z.discriminatedUnion("valid", [
  z.object({
    valid: z.literal(true),
    apiKeyId: z.string(),
    name: z.string(),
    scopes: z.array(z.string()),
    filePatterns: z.array(z.string()),
    expiresAt: z.string().nullable(),
  }),
  z.object({
    valid: z.literal(false),
    /** API_KEY_INVALID (unknown, malformed or another tenant's), API_KEY_REVOKED, API_KEY_EXPIRED. */
    code: z.enum(["API_KEY_INVALID", "API_KEY_REVOKED", "API_KEY_EXPIRED"]),
    message: z.string(),
  }),
]);
export type VerifyKeyResponse = z.infer<typeof VerifyKeyResponseSchema>;

/** Full replacement of a node's attachment set: self-healing after lost reports or restarts. */
export const AttachmentsSyncRequestSchema = z.object({ attachments: z.array(AttachmentReportSchema).max(100_000) });
export const AttachmentsSyncResponseSchema = z.object({ added: z.number().int(), removed: z.number().int() });

// ---------------------------------------------------------------------------
// Cross-node routing (docs/spec/worker-api.md, "Routing"; docs/spec/redis-routing.md)
// ---------------------------------------------------------------------------

/**
 * `GET /api/worker/routing`: how this node reaches its tenant's Redis. The credentials are an ACL
 * user limited to the tenant's keys (`commy:{t:<tenantId>:*`), provisioned by the control plane on
 * first request and rotated when the node is revoked. `redis` is null when the control plane has
 * no Redis configured: the worker then serves co-located clients only.
 */
export const RoutingConfigResponseSchema = z.object({
  tenantId: z.string(),
  nodeId: z.string(),
  redis: z
    .object({
      /** `redis://host:port` or `rediss://host:port`, without credentials. */
      url: z.string(),
      /** True when `url` is one seed of a Redis Cluster. */
      cluster: z.boolean(),
      username: z.string(),
      password: z.string(),
      /** PEM of the CA that signs the server's certificate (rediss only), or null for the system CAs. */
      tlsCa: z.string().nullable(),
    })
    .nullable(),
});
export type RoutingConfigResponse = z.infer<typeof RoutingConfigResponseSchema>;

const rate = z.number().nonnegative().finite();
/** What one transport carried for one file on one node, over the last report interval. */
export const TransportStatsSchema = z.object({
  messagesPerSec: rate,
  bytesPerSec: rate,
  /** One-way delivery latency over the interval, µs; null when nothing was measured. */
  latencyP50Us: rate.nullable(),
  latencyP99Us: rate.nullable(),
  /** Since the worker started. */
  messagesTotal: z.number().int().nonnegative(),
});
export type TransportStats = z.infer<typeof TransportStatsSchema>;

/** One file's current transport decision and live stats on the reporting node. */
export const RouteReportSchema = z.object({
  sharedFileId: z.string().min(1).max(64),
  /** null when the selection refused (see errorCode). */
  transport: TransportSchema.nullable(),
  status: z.enum(["ok", "degraded", "refused"]),
  /** selectTransport's reasonCode, or the refusal's errorCode. */
  reasonCode: z.string().min(1).max(64),
  /** Human sentence: why this transport ("2 peers on other hosts: node-b, node-c"). */
  reason: z.string().max(1000),
  /** The selection's inputs as given to selectTransport (peers, preference, measurements, health). */
  inputs: z.record(z.string(), z.unknown()),
  colocatedPeers: z.array(z.string().max(200)).max(1000),
  remotePeers: z.array(z.string().max(200)).max(1000),
  degradedPeers: z.array(z.string().max(200)).max(1000),
  warnings: z.array(z.string().max(500)).max(20),
  decidedAt: z.string().datetime(),
  stats: z.object({
    sharedMemory: TransportStatsSchema,
    network: TransportStatsSchema,
    /** Age of the newest frame this node applied when it was applied, ms (null: nothing applied). */
    streamLagMs: rate.nullable(),
    /** Frames delivered to this node's group but not yet acknowledged. */
    pendingFrames: z.number().int().nonnegative(),
    /** Entries in the file's dead-letter stream. */
    deadLetters: z.number().int().nonnegative(),
    /** Records waiting for Redis (durable files while Redis is unreachable). */
    backlog: z.number().int().nonnegative(),
  }),
});
export type RouteReport = z.infer<typeof RouteReportSchema>;

/**
 * `PUT /api/worker/routes`: the node's complete current set of route reports (one per file it has
 * attachments on, or routes for). Full replacement, like attachments. Sent about once a second
 * while anything changed. The control plane audits decision changes as `transport.selected`,
 * `transport.switched` and `transport.failed`.
 */
export const RoutesSyncRequestSchema = z.object({ routes: z.array(RouteReportSchema).max(10_000) });
export const RoutesSyncResponseSchema = z.object({ stored: z.number().int(), removed: z.number().int() });

/**
 * A mapping the worker removed because it reached the file's TTL (POST /api/worker/expired).
 * `closedAttachments` are the attachments it closed with FILE_EXPIRED (they also leave the next
 * attachment sync).
 */
export const FileExpiredReportSchema = z.object({
  sharedFileId: z.string().min(1).max(64),
  ttlSeconds: z.number().int().positive(),
  /** When the mapping was created on this node (ISO 8601). */
  mappingCreatedAt: z.string().datetime(),
  closedAttachments: z.array(z.string().min(1).max(64)).max(10_000),
});
export type FileExpiredReport = z.infer<typeof FileExpiredReportSchema>;
export const FileExpiredResponseSchema = z.object({ recorded: z.boolean() });

/** Error body of every worker endpoint (same shape as the REST API). */
export const WorkerApiErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), fields: z.record(z.string(), z.array(z.string())).optional() }),
});

/** Paths, relative to the control plane's base URL. */
export const WORKER_API = {
  join: "/api/worker/join",
  heartbeat: "/api/worker/heartbeat",
  catalogue: "/api/worker/catalogue",
  settings: "/api/worker/settings",
  verifyKey: "/api/worker/keys/verify",
  attachments: "/api/worker/attachments",
  routing: "/api/worker/routing",
  routes: "/api/worker/routes",
  expired: "/api/worker/expired",
} as const;

/** `Authorization: Node <credential>`. Credentials look like `cmn_<24 base64url chars>_<43 base64url chars>`. */
export const NODE_AUTH_SCHEME = "Node";
