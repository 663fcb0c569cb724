/**
 * The shared-file request model: every field of BRIEF.md's model, typed and validated, with
 * the descriptions that the OpenAPI document and the UI's help texts show.
 *
 * One schema serves the control plane (tRPC + REST), the UI and the worker. Enum values are
 * lowercase kebab-case on the wire (`publish-subscribe`); the database stores them as
 * UPPER_SNAKE enums (see `toDbEnum`/`fromDbEnum`).
 *
 * Pure module (zod only).
 */
import { z } from "zod";
import { API_KEY_SCOPES } from "../auth/permissions";
import { NAME_PATTERN, ZName, ZTimestamp } from "./common";

// ---------------------------------------------------------------------------
// Enumerations, each with a one-line explanation per value (UI help, OpenAPI)
// ---------------------------------------------------------------------------

export const SHARED_FILE_KINDS = ["variables", "stream"] as const;
export const KIND_HELP: Record<(typeof SHARED_FILE_KINDS)[number], string> = {
  variables: "Named latest-value slots with versions: read, write, watch.",
  stream: "Ordered messages: publish/subscribe, queues with consumer groups, request/response.",
};

export const PATTERNS = ["one-way", "request-response", "publish-subscribe", "queue", "observer", "blackboard", "pipeline"] as const;
export const PATTERN_HELP: Record<(typeof PATTERNS)[number], string> = {
  "one-way": "Producers send, consumers receive; no replies.",
  "request-response": "A requester sends a message and waits for the matching reply (stream only, bidirectional).",
  "publish-subscribe": "Every subscriber sees every message (stream only).",
  queue: "Each message goes to one consumer of a consumer group (stream only).",
  observer: "Consumers watch for changes and react to the latest state.",
  blackboard: "Many writers and readers share named values (variables only).",
  pipeline: "Stages pass messages along in order (stream only).",
};

export const TOPOLOGIES = ["one-to-one", "one-to-many", "many-to-one", "many-to-many"] as const;
export const TOPOLOGY_HELP: Record<(typeof TOPOLOGIES)[number], string> = {
  "one-to-one": "1:1 — one producer, one consumer.",
  "one-to-many": "1:N — one producer, many consumers.",
  "many-to-one": "N:1 — many producers, one consumer.",
  "many-to-many": "N:M — many producers, many consumers.",
};

export const DIRECTIONALITIES = ["producer-to-consumer", "bidirectional"] as const;
export const DIRECTIONALITY_HELP: Record<(typeof DIRECTIONALITIES)[number], string> = {
  "producer-to-consumer": "Data flows one way: producers write, consumers read.",
  bidirectional: "Every participant may both write and read.",
};

export const SERIALIZATIONS = ["json", "msgpack", "cbor", "raw"] as const;
export const SERIALIZATION_HELP: Record<(typeof SERIALIZATIONS)[number], string> = {
  json: "UTF-8 JSON: readable, slowest.",
  msgpack: "MessagePack: compact binary.",
  cbor: "CBOR (RFC 8949): compact binary, self-describing.",
  raw: "Bytes as given; the application owns the format.",
};

export const CREATION_POLICIES = ["create", "create-if-absent", "never-create"] as const;
export const CREATION_POLICY_HELP: Record<(typeof CREATION_POLICIES)[number], string> = {
  create: "The first attaching client creates the mapping; attaching fails if it already exists on the node.",
  "create-if-absent": "Create the mapping on the node if it is not there, otherwise use it.",
  "never-create": "Clients never create the mapping; it must already be there.",
};

export const EXISTENCE_POLICIES = ["must-not-exist", "may-exist", "must-exist", "connect-only"] as const;
export const EXISTENCE_POLICY_HELP: Record<(typeof EXISTENCE_POLICIES)[number], string> = {
  "must-not-exist": "Attaching fails if the mapping already exists (fresh state guaranteed).",
  "may-exist": "Attach whether or not the mapping exists.",
  "must-exist": "Attaching fails unless the mapping exists.",
  "connect-only": "Only connect to an existing mapping, never change its layout.",
};

export const TRANSPORT_PREFERENCES = ["auto", "prefer-local", "prefer-network", "local-only", "network-only", "adaptive"] as const;
export const TRANSPORT_PREFERENCE_HELP: Record<(typeof TRANSPORT_PREFERENCES)[number], string> = {
  auto: "The platform picks: shared memory for peers on the same node, Redis Streams across nodes.",
  "prefer-local": "Shared memory whenever possible; network only for peers on other nodes.",
  "prefer-network": "Go through Redis even on the same node (e.g. to get durability), unless unavailable.",
  "local-only": "Shared memory only; peers on other nodes cannot attach.",
  "network-only": "Redis Streams only, even for peers on the same node.",
  adaptive: "Like auto, and re-evaluated as peers come and go and as latency/throughput targets are missed.",
};

export const CONSISTENCIES = ["eventual", "strong"] as const;
export const CONSISTENCY_HELP: Record<(typeof CONSISTENCIES)[number], string> = {
  eventual: "Readers on other nodes may briefly see an older value.",
  strong: "A write returns once every attached node has applied it.",
};

export const DURABILITIES = ["memory", "durable"] as const;
export const DURABILITY_HELP: Record<(typeof DURABILITIES)[number], string> = {
  memory: "Data lives in memory; lost when every process detaches and the node restarts.",
  durable: "Data is also kept in Redis (bounded retention) and can be replayed.",
};

export const SHARED_FILE_STATUSES = ["active", "expired", "archived"] as const;
export const OVERFLOW_POLICIES = ["overwrite", "refuse"] as const;

/**
 * Binary-layout limits of the shared-file format (version 1). Mirrors `native/src/format.h`;
 * used here so that the control plane rejects a layout the native module could not map.
 */
export const SHARED_FILE_FORMAT = {
  headerSize: 4096,
  cacheLine: 64,
  variables: { dirEntrySize: 64, controlSize: 128, bufferHeader: 0, maxNameLen: 40, maxValueSize: 16 << 20, maxSlots: 65_536 },
  stream: { slotHeader: 16, minCapacity: 2, maxCapacity: 1 << 24, maxMessageSize: 1 << 20, consumerTableOffset: 128, consumerSize: 64, maxConsumers: 256 },
} as const;

/** Upper bound of `maxSizeBytes` (also what an Int column holds comfortably). */
export const MAX_SHARED_FILE_BYTES = 1 << 30;
export const MIN_SHARED_FILE_BYTES = SHARED_FILE_FORMAT.headerSize * 2;

// ---------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------

/** Slot names: case-sensitive identifiers, limited to what the format's directory holds. */
export const SLOT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

export const ZVariableSlot = z
  .object({
    name: z
      .string()
      .regex(SLOT_NAME_PATTERN, { message: "Use 1–40 characters: letters, digits, '.', '_' or '-', starting with a letter or digit" })
      .meta({ description: "Slot name, unique within the file (1–40 characters).", example: "celsius" }),
    maxSize: z
      .number()
      .int()
      .min(1)
      .max(SHARED_FILE_FORMAT.variables.maxValueSize)
      .meta({ description: "Largest encoded value the slot holds, in bytes (1 B – 16 MiB).", example: 64 }),
  })
  .strict();

export const ZVariablesLayout = z
  .object({
    type: z.literal("variables"),
    slots: z
      .array(ZVariableSlot)
      .min(1, { message: "Declare at least one slot" })
      .max(SHARED_FILE_FORMAT.variables.maxSlots)
      .meta({ description: "The named latest-value slots of the file." }),
  })
  .strict()
  .meta({ description: "Layout of a `variables` file: named slots." });

export const ZStreamLayout = z
  .object({
    type: z.literal("stream"),
    messageMaxSize: z
      .number()
      .int()
      .min(1)
      .max(SHARED_FILE_FORMAT.stream.maxMessageSize)
      .meta({ description: "Largest encoded message, in bytes (1 B – 1 MiB).", example: 256 }),
    capacity: z
      .number()
      .int()
      .min(SHARED_FILE_FORMAT.stream.minCapacity)
      .max(SHARED_FILE_FORMAT.stream.maxCapacity)
      .meta({ description: "Messages the ring buffer holds before overflow applies (2 – 16,777,216).", example: 1024 }),
    overflow: z
      .enum(OVERFLOW_POLICIES)
      .meta({ description: "When the ring is full: `overwrite` drops the oldest message; `refuse` rejects the new one (back-pressure)." })
      .default("overwrite"),
    maxConsumers: z
      .number()
      .int()
      .min(1)
      .max(SHARED_FILE_FORMAT.stream.maxConsumers)
      .meta({ description: "Consumer cursors the file reserves room for (1–256); consumers beyond it are refused on the node." })
      .default(64),
  })
  .strict()
  .meta({ description: "Layout of a `stream` file: a ring buffer of messages." });

export const ZLayout = z
  .discriminatedUnion("type", [ZVariablesLayout, ZStreamLayout])
  .meta({ description: "Binary layout; `type` must equal the file's `kind`." });
export type TLayout = z.infer<typeof ZLayout>;

const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;

/**
 * Bytes the native format (version 3; sizes as in version 2) needs for `layout`: header + region, rounded up to whole
 * pages as the file is, computed exactly as `native/src/format.h` lays it out (a unit test
 * checks it against the native module's own estimate).
 */
export function requiredBytes(layout: TLayout): number {
  const f = SHARED_FILE_FORMAT;
  if (layout.type === "variables") {
    let bytes = f.headerSize + alignUp(layout.slots.length * f.variables.dirEntrySize, f.cacheLine);
    for (const slot of layout.slots) {
      bytes += f.variables.controlSize + 2 * alignUp(f.variables.bufferHeader + slot.maxSize, f.cacheLine);
    }
    return alignUp(bytes, f.headerSize);
  }
  const ringOffset = alignUp(f.stream.consumerTableOffset + layout.maxConsumers * f.stream.consumerSize, f.cacheLine);
  return alignUp(f.headerSize + ringOffset + layout.capacity * alignUp(f.stream.slotHeader + layout.messageMaxSize, 8), f.headerSize);
}

// ---------------------------------------------------------------------------
// The request model
// ---------------------------------------------------------------------------

/** Performance fields without defaults (used by create with defaults, by patch as optional, by output as is). */
const performanceFields = {
  maxLatencyMicros: z
    .number()
    .int()
    .min(1)
    .max(60_000_000)
    .nullable()
    .meta({ description: "Latency the application needs, in microseconds (null: no requirement). Transport selection explains when it cannot be met." }),
  minThroughputMsgPerSec: z
    .number()
    .int()
    .min(1)
    .max(1_000_000_000)
    .nullable()
    .meta({ description: "Messages or writes per second the application needs (null: no requirement)." }),
  consistency: z.enum(CONSISTENCIES).meta({ description: "Cross-node consistency: `eventual` or `strong`." }),
  durability: z.enum(DURABILITIES).meta({ description: "`memory` or `durable` (kept in Redis with bounded retention, replayable)." }),
};

export const ZPerformance = z
  .object(performanceFields)
  .strict()
  .meta({ description: "Performance requirements; they steer transport selection." });

const DEFAULT_PERFORMANCE = { maxLatencyMicros: null, minThroughputMsgPerSec: null, consistency: "eventual", durability: "memory" } as const;

/**
 * Every field of the model with its validation and description, without defaults. Create adds
 * defaults, patch makes them optional, output uses them as they are: one definition, three uses.
 */
const fields = {
  description: z.string().max(1000).meta({ description: "Free text for humans (≤ 1000 characters)." }),
  kind: z.enum(SHARED_FILE_KINDS).meta({ description: "`variables` (named latest-value slots) or `stream` (ordered messages)." }),
  pattern: z.enum(PATTERNS).meta({ description: "Communication pattern. Stream-only: request-response, publish-subscribe, queue, pipeline. Variables-only: blackboard." }),
  topology: z.enum(TOPOLOGIES).meta({ description: "How many producers and consumers: 1:1, 1:N, N:1 or N:M." }),
  directionality: z.enum(DIRECTIONALITIES).meta({ description: "Whether data flows one way or both ways." }),
  serialization: z.enum(SERIALIZATIONS).meta({ description: "Encoding of values/messages: json, msgpack, cbor or raw bytes." }),
  maxSizeBytes: z
    .number()
    .int()
    .min(MIN_SHARED_FILE_BYTES)
    .max(MAX_SHARED_FILE_BYTES)
    .meta({ description: "Upper bound of the mapped file, in bytes (8 KiB – 1 GiB); the layout must fit in it." }),
  ttlSeconds: z
    .number()
    .int()
    .min(1)
    .max(366 * 24 * 3600)
    .nullable()
    .meta({ description: "Each node removes its mapping of the file (and its data) this long after creating it; open attachments are closed with FILE_EXPIRED and file.expired is recorded; the next attach starts a fresh mapping. null: never." }),
  maxConnections: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .nullable()
    .meta({ description: "Most client processes attached at once across all nodes; null: no limit." }),
  creationPolicy: z.enum(CREATION_POLICIES).meta({ description: "Who creates the mapping on a node: create, create-if-absent, never-create." }),
  existencePolicy: z.enum(EXISTENCE_POLICIES).meta({ description: "What must be true when a client attaches: must-not-exist, may-exist, must-exist, connect-only." }),
  autoCleanup: z.boolean().meta({ description: "Unmap and delete the node's file when the last client detaches." }),
  persistAfterDisconnect: z.boolean().meta({ description: "Keep data after every client detached (requires autoCleanup: false)." }),
  requiredPermissions: z
    .array(z.enum(API_KEY_SCOPES))
    .max(API_KEY_SCOPES.length)
    .meta({ description: "API-key scopes a client must hold, in addition to data:read/data:write, to attach." }),
  transportPreference: z.enum(TRANSPORT_PREFERENCES).meta({ description: "How the platform chooses between shared memory and Redis Streams." }),
  performance: ZPerformance,
  layout: ZLayout,
};

const specShape = {
  description: fields.description.default(""),
  kind: fields.kind,
  pattern: fields.pattern.default("one-way"),
  topology: fields.topology.default("many-to-many"),
  directionality: fields.directionality.default("producer-to-consumer"),
  serialization: fields.serialization.default("json"),
  maxSizeBytes: fields.maxSizeBytes.default(1 << 20),
  ttlSeconds: fields.ttlSeconds.default(null),
  maxConnections: fields.maxConnections.default(null),
  creationPolicy: fields.creationPolicy.default("create-if-absent"),
  existencePolicy: fields.existencePolicy.default("may-exist"),
  autoCleanup: fields.autoCleanup.default(true),
  persistAfterDisconnect: fields.persistAfterDisconnect.default(false),
  requiredPermissions: fields.requiredPermissions.default([]),
  transportPreference: fields.transportPreference.default("auto"),
  performance: z
    .object({
      maxLatencyMicros: performanceFields.maxLatencyMicros.default(null),
      minThroughputMsgPerSec: performanceFields.minThroughputMsgPerSec.default(null),
      consistency: performanceFields.consistency.default("eventual"),
      durability: performanceFields.durability.default("memory"),
    })
    .strict()
    .default(DEFAULT_PERFORMANCE)
    .meta({ description: "Performance requirements; they steer transport selection. Omitted fields take their defaults." }),
  layout: fields.layout,
};

/** The fields after defaults, i.e. a complete model (what the rules check). */
export type TSharedFileSpec = z.output<z.ZodObject<typeof fields>>;

/**
 * Cross-field rules. Each message says what to change. Applied on create and, on update, to the
 * merged result (so a PATCH cannot sneak an inconsistent combination in field by field).
 */
export function checkSharedFileRules(spec: TSharedFileSpec, addIssue: (path: (string | number)[], message: string) => void): void {
  if (spec.layout.type !== spec.kind) {
    addIssue(["layout", "type"], `A ${spec.layout.type} layout does not fit kind "${spec.kind}": use layout.type "${spec.kind}"`);
  }
  const streamOnly: readonly string[] = ["request-response", "publish-subscribe", "queue", "pipeline"];
  if (spec.kind === "variables" && streamOnly.includes(spec.pattern)) {
    addIssue(["pattern"], `Pattern "${spec.pattern}" needs kind "stream"`);
  }
  if (spec.kind === "stream" && spec.pattern === "blackboard") {
    addIssue(["pattern"], `Pattern "blackboard" needs kind "variables"`);
  }
  if (spec.pattern === "request-response" && spec.directionality !== "bidirectional") {
    addIssue(["directionality"], `Pattern "request-response" needs directionality "bidirectional" (replies flow back)`);
  }
  if (spec.creationPolicy === "never-create" && spec.existencePolicy === "must-not-exist") {
    addIssue(["existencePolicy"], `"must-not-exist" with creationPolicy "never-create" can never be satisfied`);
  }
  if (spec.creationPolicy === "create" && (spec.existencePolicy === "must-exist" || spec.existencePolicy === "connect-only")) {
    addIssue(["existencePolicy"], `"${spec.existencePolicy}" contradicts creationPolicy "create" (which requires the mapping to be absent)`);
  }
  if (spec.autoCleanup && spec.persistAfterDisconnect) {
    addIssue(["persistAfterDisconnect"], "persistAfterDisconnect needs autoCleanup: false (cleanup would delete the data)");
  }
  if (spec.transportPreference === "local-only" && spec.performance.durability === "durable") {
    addIssue(["performance", "durability"], `"durable" keeps data in Redis, which transportPreference "local-only" forbids`);
  }
  if (spec.transportPreference === "local-only" && spec.performance.consistency === "strong") {
    // Strong consistency is about acknowledgements across nodes; local-only has one node.
    addIssue(["performance", "consistency"], `"strong" concerns other nodes, which transportPreference "local-only" excludes: use "eventual"`);
  }
  if (new Set(spec.requiredPermissions).size !== spec.requiredPermissions.length) {
    addIssue(["requiredPermissions"], "Each scope may appear only once");
  }
  if (spec.layout.type === "variables") {
    const seen = new Set<string>();
    spec.layout.slots.forEach((slot, i) => {
      if (seen.has(slot.name)) addIssue(["layout", "slots", i, "name"], `Slot "${slot.name}" is declared twice`);
      seen.add(slot.name);
    });
  }
  const need = requiredBytes(spec.layout);
  if (need > spec.maxSizeBytes) {
    addIssue(["maxSizeBytes"], `The layout needs ${need} bytes; raise maxSizeBytes to at least ${need} or shrink the layout`);
  }
}

function refineSpec(spec: TSharedFileSpec, ctx: z.RefinementCtx): void {
  checkSharedFileRules(spec, (path, message) => ctx.addIssue({ code: "custom", path, message }));
}

/** Input of create: the name plus the model, with defaults and cross-field rules. */
export const ZSharedFileCreate = z
  .object({ name: ZName, ...specShape })
  .strict()
  .superRefine(refineSpec)
  .meta({ description: "A shared file to declare. Only name, kind and layout are required; everything else has a default." });
export type TSharedFileCreateInput = z.input<typeof ZSharedFileCreate>;
export type TSharedFileCreate = z.output<typeof ZSharedFileCreate>;

/**
 * Input of update (PATCH): any subset of the model, plus the `revision` the client last saw
 * (optimistic concurrency: a stale revision is a CONFLICT, never a silent overwrite).
 * `name` and `kind` are immutable: workers identify the file by name and its binary layout by
 * kind; delete and re-create to change them.
 */
export const ZSharedFilePatch = z
  .object({
    revision: z.number().int().min(1).meta({ description: "The revision this change is based on (from the last read). A newer revision on the server → 409 CONFLICT." }),
    description: fields.description.optional(),
    pattern: fields.pattern.optional(),
    topology: fields.topology.optional(),
    directionality: fields.directionality.optional(),
    serialization: fields.serialization.optional(),
    maxSizeBytes: fields.maxSizeBytes.optional(),
    ttlSeconds: fields.ttlSeconds.optional(),
    maxConnections: fields.maxConnections.optional(),
    creationPolicy: fields.creationPolicy.optional(),
    existencePolicy: fields.existencePolicy.optional(),
    autoCleanup: fields.autoCleanup.optional(),
    persistAfterDisconnect: fields.persistAfterDisconnect.optional(),
    requiredPermissions: fields.requiredPermissions.optional(),
    transportPreference: fields.transportPreference.optional(),
    performance: z
      .object({
        maxLatencyMicros: performanceFields.maxLatencyMicros.optional(),
        minThroughputMsgPerSec: performanceFields.minThroughputMsgPerSec.optional(),
        consistency: performanceFields.consistency.optional(),
        durability: performanceFields.durability.optional(),
      })
      .strict()
      .optional()
      .meta({ description: "Fields given replace the current ones; others are kept." }),
    layout: fields.layout.optional(),
    status: z.enum(["active", "archived"]).optional().meta({ description: "Archive a file (workers stop offering it) or re-activate it." }),
  })
  .strict()
  .meta({ description: "Fields to change. `revision` is required; `name` and `kind` cannot change." });
export type TSharedFilePatch = z.output<typeof ZSharedFilePatch>;

/** Applies a patch to a complete model (the service validates the result with `checkSharedFileRules`). */
export function mergeSharedFilePatch(current: TSharedFileSpec, patch: TSharedFilePatch): TSharedFileSpec {
  const { revision: _revision, status: _status, performance, ...rest } = patch;
  const merged: TSharedFileSpec = { ...current };
  for (const [k, v] of Object.entries(rest)) {
    if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  }
  merged.performance = { ...current.performance };
  for (const [k, v] of Object.entries(performance ?? {})) {
    if (v !== undefined) (merged.performance as Record<string, unknown>)[k] = v;
  }
  return merged;
}

/** A shared file as the API returns it. */
export const ZSharedFile = z.object({
  id: z.string().meta({ description: "Stable id (the name is the handle clients use)." }),
  name: ZName,
  ...fields,
  status: z.enum(SHARED_FILE_STATUSES).meta({ description: "`active`, `expired` (TTL passed) or `archived`." }),
  revision: z.number().int().meta({ description: "Bumped on every change; send it back in updates." }),
  createdAt: ZTimestamp,
  updatedAt: ZTimestamp,
});
export type TSharedFile = z.output<typeof ZSharedFile>;

/** Path parameter of the REST routes. */
export const ZSharedFileNameParam = z.object({ name: ZName });

// ---------------------------------------------------------------------------
// Wire ↔ database enum values
// ---------------------------------------------------------------------------

/** `publish-subscribe` → `PUBLISH_SUBSCRIBE` (every wire enum maps this way to its Prisma enum). */
export function toDbEnum<T extends string>(value: string): T {
  return value.toUpperCase().replace(/-/g, "_") as T;
}

const fromDbCache = new Map<string, string>();

/** `PUBLISH_SUBSCRIBE` → `publish-subscribe` (memoized: it runs ~10× per file on every list). */
export function fromDbEnum<T extends string>(value: string): T {
  let out = fromDbCache.get(value);
  if (out === undefined) {
    out = value.toLowerCase().replace(/_/g, "-");
    if (fromDbCache.size < 256) fromDbCache.set(value, out);
  }
  return out as T;
}
