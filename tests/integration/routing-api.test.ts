/**
 * The control plane's side of cross-node routing, against the real PostgreSQL and Redis of the
 * integration setup:
 *  - PUT /api/worker/routes: validation (field errors), storage, audited decision changes
 *    (selected, switched, failed), other tenants' files ignored, full replacement;
 *  - "why this transport": GET /api/v1/files/{name}/routes and the stats history;
 *  - the data API through Redis end to end: a REST write is a frame in the file's stream that
 *    routing's codec decodes; a RouteProducer's writes (another node) are readable through REST;
 *    serialization, size limits, unknown slots, wrong kinds, no Redis → 503;
 *  - tenant isolation of the new routes;
 *  - the SSE event feed: an event created after connecting arrives; Last-Event-ID resumes; a
 *    revoked key ends the stream.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeFrame, fileKeys, HybridLogicalClock, RouteProducer, unpackValue, packValue } from "../../routing";
import * as eventsRoute from "~/app/api/v1/events/route";
import * as messagesRoute from "~/app/api/v1/files/[name]/messages/route";
import * as fileRoutesRoute from "~/app/api/v1/files/[name]/routes/route";
import * as variableRoute from "~/app/api/v1/files/[name]/variables/[slot]/route";
import * as deadLettersRoute from "~/app/api/v1/files/[name]/dead-letters/route";
import * as workerRoutes from "~/app/api/worker/routes/route";
import { authorize } from "~/server/actor";
import type { RouteReport } from "~/server/contracts/worker";
import { db } from "~/server/db";
import { authenticateRest } from "~/server/rest/handler";
import { revokeApiKey } from "~/server/services/api-keys";
import { eventFeedResponse } from "~/server/services/event-feed";
import { getFileRouteHistory } from "~/server/services/file-routes";
import { createJoinToken, exchangeJoinToken } from "~/server/services/node-join";
import { closeRouting } from "~/server/services/routing-client";
import { createSharedFile } from "~/server/services/shared-files";
import { uniqueName } from "../helpers/unique";
import { createTestKey, createTestTenant, restRequest, routeParams, uniqueIp, type TestTenant } from "./control-plane-fixtures";

let a: TestTenant;
let b: TestTenant;
let aKey: string;
let bKey: string;
let redis: Redis;

const meta = () => ({ requestId: uniqueName("req"), ip: uniqueIp(), userAgent: "vitest" });

async function joinNode(t: TestTenant, name: string): Promise<{ nodeId: string; credential: string }> {
  const token = await createJoinToken(t.owner.ctx, { controlPlaneUrl: "http://localhost" });
  const joined = await exchangeJoinToken(
    {
      token: token.token,
      name,
      hostname: `${name}.local`,
      version: "1.0.0",
      labels: {},
      capabilities: { shmBytes: 1 << 30, ipcNamespace: "ipc:1", bootId: `boot-${name}`, platform: "linux", arch: "x64", cpus: 2 },
    },
    meta(),
  );
  return { nodeId: joined.nodeId, credential: joined.credential };
}

function putRoutes(credential: string, body: unknown): Promise<Response> {
  return workerRoutes.PUT(
    new Request("http://localhost/api/worker/routes", {
      method: "PUT",
      headers: { authorization: `Node ${credential}`, "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
}

const zeroStats = { messagesPerSec: 0, bytesPerSec: 0, latencyP50Us: null, latencyP99Us: null, messagesTotal: 0 };
function report(sharedFileId: string, over: Partial<RouteReport> = {}): RouteReport {
  return {
    sharedFileId,
    transport: "NETWORK",
    status: "ok",
    reasonCode: "REMOTE_PEERS",
    reason: "1 peer on another host: node-b",
    inputs: { preference: "AUTO", peers: [{ node: "node-b", sameHost: false }], redisHealthy: true },
    colocatedPeers: [],
    remotePeers: ["node-b"],
    degradedPeers: [],
    warnings: [],
    decidedAt: new Date().toISOString(),
    stats: {
      sharedMemory: zeroStats,
      network: { messagesPerSec: 1200, bytesPerSec: 76800, latencyP50Us: 180, latencyP99Us: 900, messagesTotal: 5000 },
      streamLagMs: 2,
      pendingFrames: 0,
      deadLetters: 0,
      backlog: 0,
    },
    ...over,
  };
}

async function variablesFile(t: TestTenant, opts: { serialization?: "json" | "msgpack" | "raw"; maxSize?: number } = {}) {
  return createSharedFile(t.owner.ctx, {
    name: uniqueName("vars"),
    kind: "variables",
    serialization: opts.serialization ?? "json",
    layout: { type: "variables", slots: [{ name: "celsius", maxSize: opts.maxSize ?? 64 }, { name: "mode", maxSize: 16 }] },
  });
}

async function streamFile(t: TestTenant, serialization: "json" | "raw" = "json") {
  return createSharedFile(t.owner.ctx, { name: uniqueName("events"), kind: "stream", serialization, layout: { type: "stream", messageMaxSize: 128, capacity: 64 } });
}

async function json(res: Response): Promise<{ status: number; body: any }> {
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

beforeAll(async () => {
  [a, b] = [await createTestTenant(), await createTestTenant()];
  aKey = (await createTestKey(a.owner, ["files:read", "data:write", "audit:read"])).raw;
  bKey = (await createTestKey(b.owner, ["files:read", "data:write", "audit:read", "nodes:read"])).raw;
  redis = new Redis(process.env.REDIS_URL!, { lazyConnect: true });
  await redis.connect();
});
afterAll(async () => {
  redis.disconnect();
  await closeRouting();
  await db.$disconnect();
});

// ---------------------------------------------------------------------------
// Route reports
// ---------------------------------------------------------------------------

describe("PUT /api/worker/routes", () => {
  it("rejects bad input with field errors and an unknown credential with 401", async () => {
    const node = await joinNode(a, uniqueName("n"));
    const file = await variablesFile(a);
    const bad = await json(await putRoutes(node.credential, { routes: [{ ...report(file.id), status: "sideways", decidedAt: "yesterday" }] }));
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("VALIDATION_FAILED");
    expect(Object.keys(bad.body.error.fields)).toEqual(expect.arrayContaining(["routes.0.status", "routes.0.decidedAt"]));
    expect((await json(await putRoutes(node.credential, "{not json"))).status).toBe(400);
    expect((await json(await putRoutes("cmn_nope", { routes: [] }))).status).toBe(401);
    expect(await db.fileRoute.count({ where: { nodeId: node.nodeId } })).toBe(0);
  });

  it("stores decisions, audits selected → switched → failed, ignores other tenants' files, replaces the set", async () => {
    const node = await joinNode(a, uniqueName("n"));
    const file = await variablesFile(a);
    const foreign = await variablesFile(b);

    const first = await json(await putRoutes(node.credential, { routes: [report(file.id), report(foreign.id)] }));
    expect(first).toEqual({ status: 200, body: { stored: 1, removed: 0 } });
    expect(await db.fileRoute.count({ where: { sharedFileId: foreign.id } })).toBe(0);

    // Same decision again (stats only): no new audit event.
    await putRoutes(node.credential, { routes: [report(file.id)] });
    await putRoutes(node.credential, { routes: [report(file.id, { transport: "HYBRID", reasonCode: "MIXED_PEERS", reason: "co-located and remote peers", colocatedPeers: ["node-a2"] })] });
    await putRoutes(node.credential, {
      routes: [report(file.id, { transport: null, status: "refused", reasonCode: "TRANSPORT_LOCAL_ONLY_REMOTE_ATTACHMENT", reason: "local-only file, peer node-b is on another host" })],
    });
    const events = await db.auditEvent.findMany({ where: { tenantId: a.tenantId, targetId: file.id, action: { startsWith: "transport." } }, orderBy: { seq: "asc" } });
    expect(events.map((e) => e.action)).toEqual(["transport.selected", "transport.switched", "transport.failed"]);
    expect(events[0]).toMatchObject({ actorType: "NODE", actorId: node.nodeId, outcome: "SUCCESS" });
    expect(events[1]!.before).toMatchObject({ transport: "NETWORK" });
    expect(events[1]!.after).toMatchObject({ transport: "HYBRID", nodeId: node.nodeId });
    expect(events[2]).toMatchObject({ outcome: "FAILURE" });
    // Nothing about B's file in A's log or B's.
    expect(await db.auditEvent.count({ where: { targetId: foreign.id, action: { startsWith: "transport." } } })).toBe(0);

    // "Why does this file use the network?" through REST.
    const why = await json(await fileRoutesRoute.GET(restRequest("GET", `/files/${file.name}/routes`, { key: aKey }), routeParams({ name: file.name })));
    expect(why.status).toBe(200);
    expect(why.body.routes).toHaveLength(1);
    expect(why.body.routes[0]).toMatchObject({ nodeId: node.nodeId, transport: null, status: "refused", reasonCode: "TRANSPORT_LOCAL_ONLY_REMOTE_ATTACHMENT" });
    expect(why.body.routes[0].inputs).toMatchObject({ preference: "AUTO", redisHealthy: true });
    expect((await getFileRouteHistory(a.owner.ctx, file.name)).length).toBe(4);

    // Full replacement: an empty report removes the route.
    expect((await json(await putRoutes(node.credential, { routes: [] }))).body).toEqual({ stored: 0, removed: 1 });
    expect(await db.fileRoute.count({ where: { nodeId: node.nodeId } })).toBe(0);
  });

  it("another tenant cannot read a file's routes (404, nothing leaks)", async () => {
    const node = await joinNode(a, uniqueName("n"));
    const file = await variablesFile(a);
    await putRoutes(node.credential, { routes: [report(file.id, { reason: "secret reason of A" })] });
    const res = await fileRoutesRoute.GET(restRequest("GET", `/files/${file.name}/routes`, { key: bKey }), routeParams({ name: file.name }));
    const text = await res.text();
    expect(res.status).toBe(404);
    expect(text).not.toContain("secret reason of A");
    expect(text).not.toContain(node.nodeId);
  });
});

// ---------------------------------------------------------------------------
// Data API through Redis
// ---------------------------------------------------------------------------

async function streamEntries(tenantId: string, fileId: string) {
  const entries = (await redis.xrangeBuffer(fileKeys({ tenantId, fileId }).stream, "-", "+")) as unknown as [Buffer, Buffer[]][];
  return entries.flatMap(([id, fields]) => decodeFrame(id.toString(), fields));
}

describe("data API through Redis", () => {
  it("a REST variable write is a frame in the file's stream that routing decodes, and reads back", async () => {
    const file = await variablesFile(a);
    const w = await json(
      await variableRoute.POST(restRequest("POST", `/files/${file.name}/variables/celsius`, { key: aKey }, { value: { c: 21.5 } }), routeParams({ name: file.name, slot: "celsius" })),
    );
    expect(w.status).toBe(200);
    expect(w.body).toMatchObject({ nodeId: expect.stringMatching(/^cp-/), seq: 1, stamp: { nodeId: w.body.nodeId } });
    const records = await streamEntries(a.tenantId, file.id);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ kind: "variable", name: "celsius", origin: w.body.nodeId, seq: 1 });
    expect(JSON.parse(Buffer.from(records[0]!.payload).toString("utf8"))).toEqual({ c: 21.5 });

    const r = await json(await variableRoute.GET(restRequest("GET", `/files/${file.name}/variables/celsius`, { key: aKey }), routeParams({ name: file.name, slot: "celsius" })));
    expect(r.body).toMatchObject({ slot: "celsius", present: true, value: { c: 21.5 }, serialization: "json" });
    const unset = await json(await variableRoute.GET(restRequest("GET", `/files/${file.name}/variables/mode`, { key: aKey }), routeParams({ name: file.name, slot: "mode" })));
    expect(unset.body).toMatchObject({ slot: "mode", present: false });
    // The value comes from the file's snapshot in Redis: it outlives the stream's retention.
    await redis.xtrim(fileKeys({ tenantId: a.tenantId, fileId: file.id }).stream, "MAXLEN", 0);
    const afterTrim = await json(await variableRoute.GET(restRequest("GET", `/files/${file.name}/variables/celsius`, { key: aKey }), routeParams({ name: file.name, slot: "celsius" })));
    expect(afterTrim.body).toMatchObject({ present: true, value: { c: 21.5 }, stamp: w.body.stamp });

    const audit = await db.auditEvent.findFirst({ where: { tenantId: a.tenantId, targetId: file.id, action: "data.variable_written" } });
    expect(audit).toMatchObject({ actorType: "API_KEY" });
  });

  it("writes by another routing node (RouteProducer) are readable through REST; the stream pages by cursor", async () => {
    const vars = await variablesFile(a);
    const events = await streamFile(a);
    const nodeId = uniqueName("node").replace(/[^A-Za-z0-9_-]/g, "");
    const producer = new RouteProducer({ redis: { url: process.env.REDIS_URL! }, nodeId, clock: new HybridLogicalClock(nodeId) });
    await producer.start();
    try {
      const ref = { tenantId: a.tenantId, fileId: events.id };
      for (let i = 0; i < 5; i++) {
        producer.publish(ref, Buffer.from(JSON.stringify({ i })), "tick");
        await producer.flush(); // one frame each, so paging by entries is visible
      }
      producer.writeVariable({ tenantId: a.tenantId, fileId: vars.id }, "celsius", Buffer.from("19.25"));
      await producer.flush();
    } finally {
      await producer.close();
    }

    const page1 = await json(await messagesRoute.GET(restRequest("GET", `/files/${events.name}/messages?limit=3`, { key: aKey }), routeParams({ name: events.name })));
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((m: { value: { i: number } }) => m.value.i)).toEqual([0, 1, 2]);
    expect(page1.body.items[0]).toMatchObject({ kind: "message", name: "tick", origin: nodeId, seq: 1 });
    const page2 = await json(
      await messagesRoute.GET(restRequest("GET", `/files/${events.name}/messages?limit=3&cursor=${page1.body.nextCursor}`, { key: aKey }), routeParams({ name: events.name })),
    );
    expect(page2.body.items.map((m: { value: { i: number } }) => m.value.i)).toEqual([3, 4]);
    const page3 = await json(
      await messagesRoute.GET(restRequest("GET", `/files/${events.name}/messages?limit=3&cursor=${page2.body.nextCursor}`, { key: aKey }), routeParams({ name: events.name })),
    );
    expect(page3.body).toEqual({ items: [], nextCursor: page2.body.nextCursor });
    const from = await json(
      await messagesRoute.GET(restRequest("GET", `/files/${events.name}/messages?from=${page1.body.items[1].streamId}&limit=1`, { key: aKey }), routeParams({ name: events.name })),
    );
    expect(from.body.items.map((m: { value: { i: number } }) => m.value.i)).toEqual([1]);

    const v = await json(await variableRoute.GET(restRequest("GET", `/files/${vars.name}/variables/celsius`, { key: aKey }), routeParams({ name: vars.name, slot: "celsius" })));
    expect(v.body).toMatchObject({ present: true, value: 19.25, stamp: { nodeId } });
  });

  it("publishes through REST; msgpack/raw files take base64; sizes, slots and kinds are checked", async () => {
    const events = await streamFile(a);
    const pub = await json(await messagesRoute.POST(restRequest("POST", `/files/${events.name}/messages`, { key: aKey }, { value: ["a", 1], subject: "s1" }), routeParams({ name: events.name })));
    expect(pub.status).toBe(201);
    const [rec] = await streamEntries(a.tenantId, events.id);
    expect(rec).toMatchObject({ kind: "message", name: "s1", origin: pub.body.nodeId });
    expect(JSON.parse(Buffer.from(rec!.payload).toString())).toEqual(["a", 1]);

    const mp = await variablesFile(a, { serialization: "msgpack" });
    const bytes = packValue({ mode: "eco" });
    const wrongField = await json(await variableRoute.POST(restRequest("POST", `/files/${mp.name}/variables/mode`, { key: aKey }, { value: "eco" }), routeParams({ name: mp.name, slot: "mode" })));
    expect(wrongField.status).toBe(400);
    expect(wrongField.body.error.fields.value).toBeDefined();
    const ok = await variableRoute.POST(restRequest("POST", `/files/${mp.name}/variables/mode`, { key: aKey }, { base64: bytes.toString("base64") }), routeParams({ name: mp.name, slot: "mode" }));
    expect(ok.status).toBe(200);
    const back = await json(await variableRoute.GET(restRequest("GET", `/files/${mp.name}/variables/mode`, { key: aKey }), routeParams({ name: mp.name, slot: "mode" })));
    expect(Buffer.from(back.body.base64, "base64").equals(bytes)).toBe(true);
    expect(unpackValue(Buffer.from(back.body.base64, "base64"))).toEqual(new Map([["mode", "eco"]]));

    const tooBig = await json(
      await variableRoute.POST(restRequest("POST", `/files/${mp.name}/variables/mode`, { key: aKey }, { base64: Buffer.alloc(17).toString("base64") }), routeParams({ name: mp.name, slot: "mode" })),
    );
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe("PAYLOAD_TOO_LARGE");
    const bigMsg = await json(await messagesRoute.POST(restRequest("POST", `/files/${events.name}/messages`, { key: aKey }, { value: "x".repeat(200) }), routeParams({ name: events.name })));
    expect(bigMsg.status).toBe(413);
    const noSlot = await json(await variableRoute.GET(restRequest("GET", `/files/${mp.name}/variables/nope`, { key: aKey }), routeParams({ name: mp.name, slot: "nope" })));
    expect(noSlot.status).toBe(404);
    expect(noSlot.body.error.code).toBe("SLOT_NOT_FOUND");
    const wrongKind = await json(await messagesRoute.POST(restRequest("POST", `/files/${mp.name}/messages`, { key: aKey }, { base64: "AA==" }), routeParams({ name: mp.name })));
    expect(wrongKind.status).toBe(400);
    const badCursor = await json(await messagesRoute.GET(restRequest("GET", `/files/${events.name}/messages?cursor=abc`, { key: aKey }), routeParams({ name: events.name })));
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error.fields.cursor).toBeDefined();
    // Refused writes left nothing in Redis.
    expect(await streamEntries(a.tenantId, mp.id)).toHaveLength(1);
  });

  it("read-only keys cannot write; another tenant's file name is 404 and nothing leaks or lands in Redis", async () => {
    const file = await variablesFile(a);
    await variableRoute.POST(restRequest("POST", `/files/${file.name}/variables/celsius`, { key: aKey }, { value: "A-only-secret" }), routeParams({ name: file.name, slot: "celsius" }));
    const readOnly = (await createTestKey(a.owner, ["data:read"])).raw;
    const denied = await variableRoute.POST(restRequest("POST", `/files/${file.name}/variables/celsius`, { key: readOnly }, { value: 1 }), routeParams({ name: file.name, slot: "celsius" }));
    expect(denied.status).toBe(403);
    for (const [res, what] of [
      [await variableRoute.GET(restRequest("GET", `/files/${file.name}/variables/celsius`, { key: bKey }), routeParams({ name: file.name, slot: "celsius" })), "read"],
      [await variableRoute.POST(restRequest("POST", `/files/${file.name}/variables/celsius`, { key: bKey }, { value: "B" }), routeParams({ name: file.name, slot: "celsius" })), "write"],
      [await messagesRoute.GET(restRequest("GET", `/files/${file.name}/messages`, { key: bKey }), routeParams({ name: file.name })), "stream"],
      [await deadLettersRoute.GET(restRequest("GET", `/files/${file.name}/dead-letters`, { key: bKey }), routeParams({ name: file.name })), "dlq"],
      [await variableRoute.GET(restRequest("GET", `/files/${file.name}/variables/celsius`, { key: bKey, tenant: a.tenantId }), routeParams({ name: file.name, slot: "celsius" })), "tenant header"],
    ] as const) {
      const text = await res.text();
      expect(res.status, what).toBe(404);
      expect(text, what).not.toContain("A-only-secret");
    }
    const records = await streamEntries(a.tenantId, file.id);
    expect(records).toHaveLength(1);
  });

  it("lists dead letters from the file's :dlq stream", async () => {
    const file = await streamFile(a);
    const dlq = fileKeys({ tenantId: a.tenantId, fileId: file.id }).dlq;
    await redis.xadd(dlq, "*", "src", "1-0", "i", "0", "err", "apply failed: disk full", "a", "5", "node", "node-x", "at", String(Date.now()));
    const res = await json(await deadLettersRoute.GET(restRequest("GET", `/files/${file.name}/dead-letters`, { key: aKey }), routeParams({ name: file.name })));
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(1);
    expect(res.body.items[0]).toMatchObject({ sourceId: "1-0", node: "node-x", error: "apply failed: disk full", attempts: 5 });
  });

  it("answers 503 ROUTING_UNAVAILABLE when no Redis is configured", async () => {
    const file = await variablesFile(a);
    const saved = process.env.REDIS_URL;
    delete process.env.REDIS_URL;
    try {
      const res = await json(await variableRoute.GET(restRequest("GET", `/files/${file.name}/variables/celsius`, { key: aKey }), routeParams({ name: file.name, slot: "celsius" })));
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe("ROUTING_UNAVAILABLE");
    } finally {
      process.env.REDIS_URL = saved;
    }
  });
});

// ---------------------------------------------------------------------------
// Event feed (SSE)
// ---------------------------------------------------------------------------

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

/** Reads SSE events from a response until `done(events)` says so or the stream ends. */
async function readEvents(res: Response, done: (events: SseEvent[]) => boolean): Promise<{ events: SseEvent[]; ended: boolean }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buf = "";
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) return { events, ended: true };
    buf += decoder.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const e: SseEvent = {};
      for (const line of block.split("\n")) {
        const m = /^(id|event|data): (.*)$/.exec(line);
        if (m) e[m[1] as keyof SseEvent] = m[2];
      }
      if (e.event) events.push(e);
    }
    if (done(events)) {
      await reader.cancel();
      return { events, ended: false };
    }
  }
}

describe("GET /api/v1/events (server-sent events)", () => {
  it("delivers an event created after connecting, and resumes after Last-Event-ID", async () => {
    const controller = new AbortController();
    const req = restRequest("GET", "/events", { key: aKey });
    const res = await eventsRoute.GET(new Request(req, { signal: controller.signal }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const name = uniqueName("live");
    const created = createSharedFile(a.owner.ctx, { name, kind: "variables", layout: { type: "variables", slots: [{ name: "v", maxSize: 8 }] } });
    const { events } = await readEvents(res, (ev) => ev.some((e) => e.event === "file.created" && e.data?.includes(name)));
    await created;
    controller.abort();
    const ev = events.find((e) => e.event === "file.created" && e.data?.includes(name))!;
    expect(JSON.parse(ev.data!)).toMatchObject({ action: "file.created", actorType: "USER", seq: Number(ev.id) });

    // Two more events; resuming after the first one delivers exactly the later ones.
    const second = await createSharedFile(a.owner.ctx, { name: uniqueName("after"), kind: "variables", layout: { type: "variables", slots: [{ name: "v", maxSize: 8 }] } });
    const resumeReq = restRequest("GET", "/events?follow=false", { key: aKey });
    resumeReq.headers.set("last-event-id", ev.id!);
    const resumed = await readEvents(await eventsRoute.GET(resumeReq), () => false);
    expect(resumed.ended).toBe(true);
    const seqs = resumed.events.map((e) => Number(e.id));
    expect(seqs.every((s) => s > Number(ev.id))).toBe(true);
    expect(resumed.events.some((e) => e.event === "file.created" && e.data?.includes(second.name))).toBe(true);
    expect(resumed.events.some((e) => e.data?.includes(name))).toBe(false);
  });

  it("serves a signed-in member of the tenant, and refuses other tenants (404)", async () => {
    const own = await eventsRoute.GET(restRequest("GET", "/events?follow=false&backlog=5", { sessionToken: a.owner.sessionToken, tenant: a.tenantId }));
    expect(own.status).toBe(200);
    await own.text();
    const other = await eventsRoute.GET(restRequest("GET", "/events?follow=false&backlog=5", { sessionToken: b.owner.sessionToken, tenant: a.tenantId }));
    expect(other.status).toBe(404);
    const bFeed = await eventsRoute.GET(restRequest("GET", "/events?follow=false&backlog=100", { key: bKey }));
    const text = await bFeed.text();
    expect(text).not.toContain(a.tenantId);
  });

  it("ends the stream when the key is revoked", async () => {
    const key = await createTestKey(a.owner, ["audit:read"]);
    const req = restRequest("GET", "/events", { key: key.raw });
    const m = meta();
    const ctx = await authenticateRest(req, m);
    const res = await eventFeedResponse(ctx, { backlog: 0, follow: true }, req, m, async () => authorize(await authenticateRest(req, meta()), "audit:read"), {
      pollMs: 200,
      heartbeatMs: 200,
      recheckMs: 200,
    });
    await revokeApiKey(a.owner.ctx, { id: key.id });
    const { events, ended } = await readEvents(res, () => false);
    expect(ended).toBe(true);
    expect(events.at(-1)).toMatchObject({ event: "end" });
    expect(JSON.parse(events.at(-1)!.data!)).toMatchObject({ code: "API_KEY_REVOKED" });
  });
});
