import { describe, expect, it } from "vitest";
import { estimateSize } from "../../native/lib/options";
import { decodeCursor, encodeCursor, ZPageQuery, zodFieldErrors } from "~/server/contracts/common";
import { nodeHealth } from "~/server/contracts/node";
import {
  checkSharedFileRules,
  fromDbEnum,
  mergeSharedFilePatch,
  requiredBytes,
  toDbEnum,
  ZSharedFileCreate,
  ZSharedFilePatch,
  type TSharedFileCreateInput,
} from "~/server/contracts/shared-file";

const variables = (over: Partial<TSharedFileCreateInput> = {}): TSharedFileCreateInput => ({
  name: "sensors.temp",
  kind: "variables",
  layout: { type: "variables", slots: [{ name: "celsius", maxSize: 64 }] },
  ...over,
});
const stream = (over: Partial<TSharedFileCreateInput> = {}): TSharedFileCreateInput => ({
  name: "events",
  kind: "stream",
  layout: { type: "stream", messageMaxSize: 256, capacity: 1024 },
  ...over,
});

/** Field errors of an input that must fail. */
function fieldsOf(input: unknown): Record<string, string[]> {
  const r = ZSharedFileCreate.safeParse(input);
  expect(r.success).toBe(false);
  return r.success ? {} : zodFieldErrors(r.error);
}

describe("shared-file request model", () => {
  it("accepts a minimal declaration and fills every default", () => {
    const f = ZSharedFileCreate.parse(variables());
    expect(f).toMatchObject({
      description: "",
      pattern: "one-way",
      topology: "many-to-many",
      directionality: "producer-to-consumer",
      serialization: "json",
      maxSizeBytes: 1 << 20,
      ttlSeconds: null,
      maxConnections: null,
      creationPolicy: "create-if-absent",
      existencePolicy: "may-exist",
      autoCleanup: true,
      persistAfterDisconnect: false,
      requiredPermissions: [],
      transportPreference: "auto",
      performance: { maxLatencyMicros: null, minThroughputMsgPerSec: null, consistency: "eventual", durability: "memory" },
    });
    expect(ZSharedFileCreate.parse(stream()).layout).toEqual({ type: "stream", messageMaxSize: 256, capacity: 1024, overflow: "overwrite", maxConsumers: 64 });
  });

  it("accepts every field set explicitly", () => {
    const f = ZSharedFileCreate.parse(
      stream({
        description: "orders",
        pattern: "request-response",
        topology: "many-to-one",
        directionality: "bidirectional",
        serialization: "msgpack",
        maxSizeBytes: 4 << 20,
        ttlSeconds: 60,
        maxConnections: 8,
        creationPolicy: "create",
        existencePolicy: "must-not-exist",
        autoCleanup: false,
        persistAfterDisconnect: true,
        requiredPermissions: ["data:write"],
        transportPreference: "network-only",
        performance: { maxLatencyMicros: 500, minThroughputMsgPerSec: 10_000, consistency: "strong", durability: "durable" },
        layout: { type: "stream", messageMaxSize: 512, capacity: 4096, overflow: "refuse", maxConsumers: 4 },
      }),
    );
    expect(f.performance.durability).toBe("durable");
    expect(f.layout).toMatchObject({ overflow: "refuse", maxConsumers: 4 });
  });

  it.each([
    ["Upper", "name"],
    ["-leading-dash", "name"],
    ["a".repeat(129), "name"],
    ["spaces here", "name"],
    ["ok/slash", "name"],
  ])("rejects the name %j with a field error on `name`", (name, field) => {
    expect(fieldsOf(variables({ name }))[field]?.[0]).toMatch(/lowercase letters/);
  });

  it("accepts names at the edges of the pattern", () => {
    for (const name of ["a", "0", "a.b_c-d", "a".repeat(128)]) expect(ZSharedFileCreate.safeParse(variables({ name })).success).toBe(true);
  });

  it("reports nested field paths for bad layout entries", () => {
    const fields = fieldsOf(variables({ layout: { type: "variables", slots: [{ name: "ok", maxSize: 0 }, { name: "bad name!", maxSize: 8 }] } }));
    expect(Object.keys(fields).sort()).toEqual(["layout.slots.0.maxSize", "layout.slots.1.name"]);
  });

  it("rejects unknown fields (typos do not pass silently)", () => {
    expect(Object.keys(fieldsOf({ ...variables(), ttl: 5 }))).toEqual(["_"]);
  });

  it("requires a layout whose type matches the kind", () => {
    expect(fieldsOf(variables({ layout: { type: "stream", messageMaxSize: 8, capacity: 8 } }))["layout.type"]?.[0]).toMatch(/use layout.type "variables"/);
  });

  it.each([
    [variables({ pattern: "queue" }), "pattern", /needs kind "stream"/],
    [stream({ pattern: "blackboard" }), "pattern", /needs kind "variables"/],
    [stream({ pattern: "request-response" }), "directionality", /bidirectional/],
    [variables({ creationPolicy: "never-create", existencePolicy: "must-not-exist" }), "existencePolicy", /never be satisfied/],
    [variables({ creationPolicy: "create", existencePolicy: "must-exist" }), "existencePolicy", /contradicts/],
    [variables({ persistAfterDisconnect: true }), "persistAfterDisconnect", /autoCleanup: false/],
    [variables({ transportPreference: "local-only", performance: { durability: "durable" } }), "performance.durability", /local-only/],
    [variables({ transportPreference: "local-only", performance: { consistency: "strong" } }), "performance.consistency", /local-only/],
    [variables({ requiredPermissions: ["data:read", "data:read"] }), "requiredPermissions", /only once/],
    [
      variables({ layout: { type: "variables", slots: [{ name: "a", maxSize: 1 }, { name: "a", maxSize: 1 }] } }),
      "layout.slots.1.name",
      /declared twice/,
    ],
  ])("cross-field rule %#: error on %s", (input, field, message) => {
    expect(fieldsOf(input)[field as string]?.[0]).toMatch(message as RegExp);
  });

  it("requires maxSizeBytes to hold the layout, naming the size needed", () => {
    const input = stream({ maxSizeBytes: 8192, layout: { type: "stream", messageMaxSize: 1024, capacity: 1024 } });
    const need = requiredBytes(ZSharedFileCreate.shape.layout.parse(input.layout));
    expect(need).toBeGreaterThan(1024 * 1024);
    expect(fieldsOf(input).maxSizeBytes?.[0]).toContain(String(need));
    expect(ZSharedFileCreate.safeParse({ ...input, maxSizeBytes: need }).success).toBe(true);
    expect(ZSharedFileCreate.safeParse({ ...input, maxSizeBytes: need - 1 }).success).toBe(false);
  });

  it("computes layout sizes as the native module does (format v2, whole pages)", () => {
    // Header 4096 + directory align64(1 × 64) + slot: control 128 + 2 × align64(64) = 384, in pages.
    expect(requiredBytes({ type: "variables", slots: [{ name: "v", maxSize: 64 }] })).toBe(8192);
    const layouts = [
      { type: "variables" as const, slots: [{ name: "v", maxSize: 64 }] },
      { type: "variables" as const, slots: Array.from({ length: 37 }, (_, i) => ({ name: `s${i}`, maxSize: 1 + i * 97 })) },
      { type: "variables" as const, slots: [{ name: "big", maxSize: 1 << 20 }, { name: "tiny", maxSize: 1 }] },
      { type: "stream" as const, messageMaxSize: 10, capacity: 4, overflow: "refuse" as const, maxConsumers: 2 },
      { type: "stream" as const, messageMaxSize: 1000, capacity: 4096, overflow: "overwrite" as const, maxConsumers: 16 },
      { type: "stream" as const, messageMaxSize: 64, capacity: 1 << 16, overflow: "refuse" as const, maxConsumers: 256 },
    ];
    for (const layout of layouts) {
      const native =
        layout.type === "variables"
          ? estimateSize({ kind: "variables", slots: layout.slots })
          : estimateSize({ kind: "stream", messageMaxSize: layout.messageMaxSize, capacity: layout.capacity, maxConsumers: layout.maxConsumers });
      expect(requiredBytes(layout), JSON.stringify(layout).slice(0, 80)).toBe(native);
    }
  });

  it("enforces the format's limits on layouts", () => {
    expect(fieldsOf(variables({ layout: { type: "variables", slots: [] } }))["layout.slots"]?.[0]).toMatch(/at least one slot/);
    expect(fieldsOf(stream({ layout: { type: "stream", messageMaxSize: (1 << 20) + 1, capacity: 2 } }))["layout.messageMaxSize"]).toBeDefined();
    expect(fieldsOf(stream({ layout: { type: "stream", messageMaxSize: 8, capacity: 1 } }))["layout.capacity"]).toBeDefined();
    expect(fieldsOf(variables({ layout: { type: "variables", slots: [{ name: "x".repeat(41), maxSize: 1 }] } }))["layout.slots.0.name"]).toBeDefined();
  });
});

describe("shared-file patch", () => {
  const base = ZSharedFileCreate.parse(variables());
  const { name: _n, ...spec } = base;

  it("requires the revision the change is based on", () => {
    const r = ZSharedFilePatch.safeParse({ description: "x" });
    expect(r.success).toBe(false);
    expect(r.success ? {} : zodFieldErrors(r.error)).toHaveProperty("revision");
  });

  it("merges given fields (performance field by field) and keeps the rest", () => {
    const patch = ZSharedFilePatch.parse({ revision: 3, description: "new", performance: { durability: "durable" } });
    const merged = mergeSharedFilePatch(spec, patch);
    expect(merged.description).toBe("new");
    expect(merged.performance).toEqual({ ...spec.performance, durability: "durable" });
    expect(merged.layout).toEqual(spec.layout);
    expect(merged).not.toHaveProperty("revision");
  });

  it("lets the merged result be checked with the same rules as create", () => {
    const merged = mergeSharedFilePatch(spec, ZSharedFilePatch.parse({ revision: 1, pattern: "queue" }));
    const errors: string[] = [];
    checkSharedFileRules(merged, (path) => errors.push(path.join(".")));
    expect(errors).toEqual(["pattern"]);
  });
});

describe("wire ↔ database enums", () => {
  it("round-trips every kebab-case value", () => {
    for (const v of ["publish-subscribe", "many-to-one", "create-if-absent", "must-not-exist", "prefer-local", "producer-to-consumer", "json"]) {
      expect(fromDbEnum(toDbEnum(v))).toBe(v);
    }
    expect(toDbEnum("request-response")).toBe("REQUEST_RESPONSE");
  });
});

describe("pagination", () => {
  it("round-trips cursors, including non-ASCII keys", () => {
    for (const key of ["a", "sensors.temp", "42", "ünïcode ✓"]) expect(decodeCursor(encodeCursor(key))).toBe(key);
  });
  it("rejects malformed cursors instead of restarting from the first page", () => {
    for (const bad of ["", "not base64!", "a", "%%%"]) expect(decodeCursor(bad)).toBeNull();
  });
  it("coerces the query string and bounds the page size", () => {
    expect(ZPageQuery.parse({})).toEqual({ limit: 20 });
    expect(ZPageQuery.parse({ limit: "5", cursor: "" })).toEqual({ limit: 5 });
    expect(ZPageQuery.safeParse({ limit: "101" }).success).toBe(false);
    expect(ZPageQuery.safeParse({ limit: "0" }).success).toBe(false);
    expect(ZPageQuery.safeParse({ limit: "abc" }).success).toBe(false);
  });
});

describe("node health from heartbeat age", () => {
  const now = 1_000_000;
  const at = (ageMs: number) => new Date(now - ageMs);
  it.each([
    [0, "healthy"],
    [10_000, "healthy"],
    [10_001, "degraded"],
    [20_000, "degraded"],
    [20_001, "unresponsive"],
    [40_000, "unresponsive"],
    [40_001, "disconnected"],
  ])("age %i ms with a 5 s interval is %s", (age, health) => {
    expect(nodeHealth(at(age), 5000, now)).toBe(health);
  });
  it("is disconnected when no heartbeat ever arrived", () => {
    expect(nodeHealth(null, 5000, now)).toBe("disconnected");
  });
});
