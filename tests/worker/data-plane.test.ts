/**
 * The data plane through a real worker process: client processes exchanging data through shared
 * memory, every policy, authorization (scopes, patterns, other tenants, read-only grants enforced
 * by the kernel), key revocation, dead clients, worker restarts.
 */
import { existsSync, writeSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "~/server/db";
import { closeFd, connectUnix, recvWithFds, sendWithFds } from "../../native/lib/fd-passing";
import { SharedFile } from "../../native/lib/index";
import { connect, type CommyClient, type StreamHandle, type VariablesHandle } from "../../worker/client/index";
import { FrameDecoder, MessageType, encodeFrame } from "../../worker/protocol/frame";
import {
  createKey,
  createSharedFile,
  createTenant,
  eventually,
  fastSettings,
  joinedWorker,
  runClient,
  startControlPlane,
  startWorker,
  unique,
  type ControlPlane,
  type FileSpec,
  type Tenant,
  type WorkerProcess,
} from "./harness";

let cp: ControlPlane;
let t: Tenant;
let w: WorkerProcess;
let rw: { raw: string; id: string };
let ro: { raw: string; id: string };
const clients: CommyClient[] = [];

beforeAll(async () => {
  cp = await startControlPlane();
  t = await createTenant();
  await fastSettings(t);
  w = await joinedWorker(cp, t);
  rw = await createKey(t.tenantId, ["data:write"]);
  ro = await createKey(t.tenantId, ["data:read"]);
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await w?.stop();
  await cp?.close();
});

async function client(apiKey = rw.raw): Promise<CommyClient> {
  const c = await connect({ socketPath: w.socketPath, apiKey, reconnect: false });
  clients.push(c);
  return c;
}

async function file(spec: Partial<FileSpec> & { kind: "VARIABLES" | "STREAM" }) {
  return createSharedFile(t.tenantId, { name: unique(spec.kind === "VARIABLES" ? "vars" : "stream"), ...spec });
}

/** Waits until the worker's catalogue has the file (it polls every 500 ms in these tests). */
async function opened(c: CommyClient, name: string, opts: Parameters<CommyClient["open"]>[1]) {
  return eventually(
    async () => {
      try {
        return await c.open(name, opts);
      } catch (e) {
        if ((e as { code?: string }).code === "FILE_NOT_FOUND") return null;
        throw e;
      }
    },
    5000,
    `open ${name}`,
  );
}

function mappingPath(fileId: string): string {
  return path.join(w.stateDir, "files", t.tenantId, `${fileId}.shf`);
}

describe("two client processes through shared memory", () => {
  it("exchange variables: every write of one process is observed by the other, in order", async () => {
    const f = await file({ kind: "VARIABLES", persistAfterDisconnect: true });
    await opened(await client(), f.name, { side: "consumer" }); // catalogue is there
    const watcher = runClient("peer", { socketPath: w.socketPath, apiKey: ro.raw, role: "var-watcher", file: f.name, count: 50 });
    await watcher.waitFor((m) => m.opened === true);
    const writer = runClient("peer", { socketPath: w.socketPath, apiKey: rw.raw, role: "var-writer", file: f.name, count: 50 });
    await writer.waitFor((m) => m.wrote === 50);
    const last = await watcher.waitFor((m) => m.seen === 50);
    const writerPid = writer.child.pid;
    expect(last.from).toBe(writerPid);
    const seen = watcher.messages.filter((m): m is { seen: number } => typeof (m as { seen?: number }).seen === "number").map((m) => m.seen);
    expect(seen).toEqual([...seen].sort((a, b) => a - b)); // monotonic
    expect(await watcher.exited).toBe(0);
    expect(watcher.messages[0]).toMatchObject({ opened: true, readOnly: true });
  });

  it.each([
    ["one by one (publish)", "stream-publisher"],
    ["in packed batches of 100 (publishPacked)", "stream-publisher-packed"],
  ])("exchange stream messages %s: 20,000 published in one process, all received in another", async (_, role) => {
    const f = await file({ kind: "STREAM", layout: { messageMaxSize: 64, capacity: 32768, overflow: "overwrite", maxConsumers: 16 } });
    await opened(await client(), f.name, { side: "consumer" });
    const sub = runClient("peer", { socketPath: w.socketPath, apiKey: ro.raw, role: "stream-subscriber", file: f.name, count: 20_000 });
    await sub.waitFor((m) => m.opened === true);
    const pub = runClient("peer", { socketPath: w.socketPath, apiKey: rw.raw, role, file: f.name, count: 20_000 });
    await pub.waitFor((m) => m.published === 20_000);
    const r = await sub.waitFor((m) => typeof m.received === "number");
    expect(r).toMatchObject({ received: 20_000, lost: 0, sum: (20_000 * 19_999) / 2 });
  });

  it("request/reply between two processes over one bidirectional stream", async () => {
    const f = await file({ kind: "STREAM", pattern: "REQUEST_RESPONSE", directionality: "BIDIRECTIONAL" });
    await opened(await client(), f.name, { side: "consumer" });
    const replier = runClient("peer", { socketPath: w.socketPath, apiKey: rw.raw, role: "replier", file: f.name });
    await replier.waitFor((m) => m.opened === true);
    const c = await client();
    const s = (await c.open(f.name, { side: "producer" })) as StreamHandle;
    const reply = await s.request<{ echo: unknown; by: number }>({ q: 42 }, { timeoutMs: 5000 });
    expect(reply).toEqual({ echo: { q: 42 }, by: replier.child.pid });
    replier.child.kill("SIGTERM");
  });
});

describe("consumer groups", () => {
  const seqsOf = (c: { messages: unknown[] }) => c.messages.flatMap((m) => ((m as { seqs?: number[] }).seqs ?? []));

  it("members of a group share the messages: each one to exactly one member while membership is stable", async () => {
    const f = await file({ kind: "STREAM", pattern: "QUEUE", layout: { messageMaxSize: 64, capacity: 8192, overflow: "overwrite", maxConsumers: 16 } });
    await opened(await client(), f.name, { side: "consumer" });
    const a = runClient("peer", { socketPath: w.socketPath, apiKey: ro.raw, role: "group-member", file: f.name });
    const b = runClient("peer", { socketPath: w.socketPath, apiKey: ro.raw, role: "group-member", file: f.name });
    await a.waitFor((m) => m.opened === true);
    await b.waitFor((m) => m.opened === true);
    const producer = (await (await client()).open(f.name, { side: "producer" })) as StreamHandle;
    const first = producer.publish({ n: 0 });
    for (let i = 1; i < 3000; i++) {
      producer.publish({ n: i });
      if (i % 100 === 0) await new Promise((r) => setTimeout(r, 5)); // give both members a chance
    }
    await eventually(() => seqsOf(a).length + seqsOf(b).length >= 3000, 15_000, "all messages consumed");
    await new Promise((r) => setTimeout(r, 300));
    const sa = seqsOf(a);
    const sb = seqsOf(b);
    expect(sa.length).toBeGreaterThan(0);
    expect(sb.length).toBeGreaterThan(0);
    expect(sa.length + sb.length).toBe(3000); // no duplicates
    expect(new Set([...sa, ...sb])).toEqual(new Set(Array.from({ length: 3000 }, (_, i) => first + i)));
    a.child.kill("SIGTERM");
    b.child.kill("SIGTERM");
  });

  it("a member that dies holding unacknowledged messages: they are redelivered to another member (at-least-once)", async () => {
    const f = await file({ kind: "STREAM", pattern: "QUEUE" });
    await opened(await client(), f.name, { side: "consumer" });
    const slow = runClient("peer", { socketPath: w.socketPath, apiKey: ro.raw, role: "group-member", file: f.name, slow: true });
    await slow.waitFor((m) => m.opened === true);
    const producer = (await (await client()).open(f.name, { side: "producer" })) as StreamHandle;
    const first = producer.publish({ n: 0 });
    for (let i = 1; i < 500; i++) producer.publish({ n: i });
    await slow.waitFor((m) => typeof m.stalled === "number");
    const healthy = runClient("peer", { socketPath: w.socketPath, apiKey: ro.raw, role: "group-member", file: f.name });
    await healthy.waitFor((m) => m.opened === true);
    // The healthy member gets everything but the slow member's lease (64 messages)...
    await eventually(() => seqsOf(healthy).length >= 500 - 64, 10_000, "healthy member drained the rest");
    expect(new Set(seqsOf(healthy)).has(first)).toBe(false);
    slow.child.kill("SIGKILL");
    // ...and after the slow member dies, its unacknowledged range too.
    await eventually(() => new Set(seqsOf(healthy)).size === 500, 10_000, "redelivery");
    expect(new Set(seqsOf(healthy))).toEqual(new Set(Array.from({ length: 500 }, (_, i) => first + i)));
    healthy.child.kill("SIGTERM");
  });
});

describe("serializations", () => {
  it.each(["JSON", "MSGPACK", "CBOR", "RAW"] as const)("%s values round-trip through a variable", async (serialization) => {
    const f = await file({ kind: "VARIABLES", serialization });
    const c = await client();
    const h = (await opened(c, f.name, { side: "producer" })) as VariablesHandle;
    const value = serialization === "RAW" ? new Uint8Array([1, 2, 3, 255]) : { a: 1, b: [true, null, "x"], c: 1.5 };
    h.write("a", value);
    const got = h.read("a").value;
    if (serialization === "RAW") expect(Array.from(got as Uint8Array)).toEqual([1, 2, 3, 255]);
    else expect(got).toEqual(value);
  });
});

describe("authorization", () => {
  it("another tenant's key gets nothing: refused at HELLO as an invalid key", async () => {
    const other = await createTenant();
    const foreign = await createKey(other.tenantId, ["data:write"]);
    await expect(connect({ socketPath: w.socketPath, apiKey: foreign.raw, reconnect: false })).rejects.toMatchObject({ code: "API_KEY_INVALID" });
    await expect(connect({ socketPath: w.socketPath, apiKey: "cmy_abcdefghij_" + "A".repeat(43), reconnect: false })).rejects.toMatchObject({ code: "API_KEY_INVALID" });
  });

  it("another tenant's file does not exist for this tenant", async () => {
    const other = await createTenant();
    const theirs = await createSharedFile(other.tenantId, { name: unique("secret"), kind: "VARIABLES" });
    const c = await client();
    await new Promise((r) => setTimeout(r, 1200)); // two catalogue polls
    await expect(c.open(theirs.name, { side: "consumer" })).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
  });

  it("scopes: a data:read key cannot produce; a key without data scopes cannot consume", async () => {
    const f = await file({ kind: "VARIABLES", directionality: "BIDIRECTIONAL" });
    await opened(await client(), f.name, { side: "consumer" });
    const reader = await client(ro.raw);
    await expect(reader.open(f.name, { side: "producer" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const filesOnly = await createKey(t.tenantId, ["files:read"]);
    const c = await client(filesOnly.raw);
    await expect(c.open(f.name, { side: "consumer" })).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("name patterns and required permissions of the file are enforced", async () => {
    const f = await file({ kind: "VARIABLES", name: unique("orders") });
    const g = await file({ kind: "VARIABLES", requiredPermissions: ["audit:read"] });
    await opened(await client(), f.name, { side: "consumer" });
    await opened(await client(), g.name, { side: "consumer" }).catch(() => undefined);
    const patterned = await createKey(t.tenantId, ["data:write"], ["prices-*"]);
    await expect((await client(patterned.raw)).open(f.name, { side: "consumer" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const matching = await createKey(t.tenantId, ["data:write"], ["orders-*"]);
    await expect((await client(matching.raw)).open(f.name, { side: "consumer" })).resolves.toBeTruthy();
    await expect((await client()).open(g.name, { side: "consumer" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const privileged = await createKey(t.tenantId, ["data:write", "audit:read"]);
    await expect((await client(privileged.raw)).open(g.name, { side: "consumer" })).resolves.toBeTruthy();
  });

  it("a read-only client cannot write: refused by the library and by the kernel (O_RDONLY fd, PROT_READ mapping)", async () => {
    const f = await file({ kind: "VARIABLES" });
    const producer = (await opened(await client(), f.name, { side: "producer" })) as VariablesHandle;
    producer.write("a", { v: 1 });
    const consumer = (await (await client(ro.raw)).open(f.name, { side: "consumer" })) as VariablesHandle;
    expect(consumer.readOnly).toBe(true);
    expect(() => consumer.write("a", { v: 2 })).toThrow(expect.objectContaining({ code: "READ_ONLY" }));
    expect(consumer.read("a").value).toEqual({ v: 1 });

    // Below the library: take the descriptor the worker hands a consumer and try to map it writable.
    const raw = await rawOpen(ro.raw, f.name, "CONSUMER");
    try {
      // The native module refuses a writable mapping of an O_RDONLY descriptor (mmap would fail
      // with EACCES anyway), and the kernel refuses plain writes on it.
      expect(() => SharedFile.openFd(raw.fd, { readOnly: false })).toThrow(/read-only|EACCES/i);
      expect(() => writeSync(raw.fd, Buffer.from("x"))).toThrow(/EBADF/);
      const mapped = SharedFile.openFd(raw.fd, { readOnly: true });
      expect(mapped.readOnly).toBe(true);
      mapped.close();
    } finally {
      closeFd(raw.fd);
      raw.close();
    }
    expect(producer.read("a").value).toEqual({ v: 1 });
  });

  it("revoking a key closes its open attachments and session within 5 s", async () => {
    const f = await file({ kind: "VARIABLES" });
    const key = await createKey(t.tenantId, ["data:write"]);
    const c = await client(key.raw);
    const h = (await opened(c, f.name, { side: "producer" })) as VariablesHandle;
    const disconnected = new Promise<{ code: string }>((r) => c.once("disconnected", r));
    const started = Date.now();
    await db.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    const why = await disconnected;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(why.code).toBe("API_KEY_REVOKED");
    expect(h.closedReason?.code).toBe("API_KEY_REVOKED");
    expect(() => h.write("a", 1)).toThrow(expect.objectContaining({ code: "API_KEY_REVOKED" }));
    await expect(connect({ socketPath: w.socketPath, apiKey: key.raw, reconnect: false })).rejects.toMatchObject({ code: "API_KEY_REVOKED" });
  });
});

describe("policies", () => {
  it("existence MUST_NOT_EXIST / MUST_EXIST / CONNECT_ONLY and creation NEVER_CREATE", async () => {
    const f = await file({ kind: "VARIABLES", persistAfterDisconnect: true });
    const c = await client();
    await expect(opened(c, f.name, { side: "consumer", existencePolicy: "MUST_EXIST" })).rejects.toThrow(/FILE_ABSENT/);
    await expect(c.open(f.name, { side: "consumer", creationPolicy: "NEVER_CREATE" })).rejects.toMatchObject({ code: "FILE_ABSENT" });
    await expect(c.open(f.name, { side: "consumer", existencePolicy: "CONNECT_ONLY" })).rejects.toMatchObject({ code: "FILE_ABSENT" });
    const first = await c.open(f.name, { side: "producer" });
    await expect(c.open(f.name, { side: "consumer", existencePolicy: "MUST_NOT_EXIST" })).rejects.toMatchObject({ code: "FILE_EXISTS" });
    await expect(c.open(f.name, { side: "consumer", existencePolicy: "CONNECT_ONLY" })).resolves.toBeTruthy();
    await first.close();
    // Persisted with no one attached: CONNECT_ONLY has no peer.
    const c2 = await client();
    await expect(c2.open(f.name, { side: "consumer", existencePolicy: "MUST_EXIST" })).resolves.toBeTruthy();
  });

  it("creation CREATE starts from fresh contents when nobody is attached; CREATE_IF_ABSENT keeps them", async () => {
    const fresh = await file({ kind: "VARIABLES", creationPolicy: "CREATE", autoCleanup: false, persistAfterDisconnect: false });
    const keep = await file({ kind: "VARIABLES", creationPolicy: "CREATE_IF_ABSENT", autoCleanup: false, persistAfterDisconnect: false });
    const c = await client();
    for (const f of [fresh, keep]) {
      const h = (await opened(c, f.name, { side: "producer" })) as VariablesHandle;
      h.write("a", "old");
      await h.close();
      expect(existsSync(mappingPath(f.id))).toBe(true); // autoCleanup off: the file stays
    }
    expect(((await c.open(fresh.name, { side: "consumer" })) as VariablesHandle).read("a").value).toBeUndefined();
    expect(((await c.open(keep.name, { side: "consumer" })) as VariablesHandle).read("a").value).toBe("old");
  });

  it("CONNECT_ONLY with the mapping present but nobody attached is NO_PEER", async () => {
    const f = await file({ kind: "VARIABLES", persistAfterDisconnect: true });
    const c = await client();
    const h = await opened(c, f.name, { side: "producer" });
    await h.close();
    expect(existsSync(mappingPath(f.id))).toBe(true);
    await expect(c.open(f.name, { side: "consumer", existencePolicy: "CONNECT_ONLY" })).rejects.toMatchObject({ code: "NO_PEER" });
  });

  it("max connections per file on the node", async () => {
    const f = await file({ kind: "VARIABLES", maxConnections: 2 });
    const c = await client();
    await opened(c, f.name, { side: "consumer" });
    await c.open(f.name, { side: "consumer" });
    await expect(c.open(f.name, { side: "consumer" })).rejects.toMatchObject({ code: "MAX_CONNECTIONS", retryable: true });
  });

  it("max size: a layout larger than maxSizeBytes is refused", async () => {
    const f = await file({ kind: "VARIABLES", maxSizeBytes: 4096, layout: { slots: [{ name: "big", maxSize: 1 << 20 }] } });
    const c = await client();
    await eventually(async () => {
      try {
        await c.open(f.name, { side: "producer" });
        return false;
      } catch (e) {
        return (e as { code: string }).code === "MAX_SIZE_EXCEEDED";
      }
    }, 5000, "MAX_SIZE_EXCEEDED");
    expect(existsSync(mappingPath(f.id))).toBe(false);
  });

  it("auto-cleanup removes the mapping after the last attachment; persist-after-disconnect keeps values", async () => {
    const cleaned = await file({ kind: "VARIABLES", autoCleanup: true, persistAfterDisconnect: false });
    const kept = await file({ kind: "VARIABLES", autoCleanup: true, persistAfterDisconnect: true });
    const c = await client();
    const a = (await opened(c, cleaned.name, { side: "producer" })) as VariablesHandle;
    const b = (await opened(c, kept.name, { side: "producer" })) as VariablesHandle;
    a.write("a", "gone");
    b.write("a", "stays");
    expect(existsSync(mappingPath(cleaned.id))).toBe(true);
    await a.close();
    await b.close();
    expect(existsSync(mappingPath(cleaned.id))).toBe(false);
    expect(existsSync(mappingPath(kept.id))).toBe(true);
    const b2 = (await c.open(kept.name, { side: "consumer" })) as VariablesHandle;
    expect(b2.read("a").value).toBe("stays");
    const a2 = (await c.open(cleaned.name, { side: "consumer" })) as VariablesHandle;
    expect(a2.read("a").value).toBeUndefined();
  });

  it("TTL: attachments are closed with FILE_EXPIRED and the mapping is deleted", async () => {
    const f = await file({ kind: "VARIABLES", ttlSeconds: 2, persistAfterDisconnect: true });
    const c = await client();
    const h = (await opened(c, f.name, { side: "producer" })) as VariablesHandle;
    const closed = await eventually(() => h.closedReason, 6000, "TTL expiry");
    expect(closed.code).toBe("FILE_EXPIRED");
    expect(existsSync(mappingPath(f.id))).toBe(false);
    // The tenant's audit log (and so its event feed) says which node expired it and what it closed.
    const event = await eventually(() => db.auditEvent.findFirst({ where: { tenantId: t.tenantId, action: "file.expired", targetId: f.id } }), 6000, "file.expired event");
    expect(event).toMatchObject({ actorType: "NODE", actorId: w.nodeId, outcome: "SUCCESS" });
    expect(event.after).toMatchObject({ name: f.name, nodeId: w.nodeId, ttlSeconds: 2, closedAttachments: 1 });
  });

  it("transport: NETWORK_ONLY is refused with a reason; AUTO explains the shared-memory choice", async () => {
    const f = await file({ kind: "VARIABLES", transportPreference: "NETWORK_ONLY" });
    const g = await file({ kind: "VARIABLES" });
    const c = await client();
    await eventually(async () => {
      try {
        await c.open(f.name, { side: "consumer" });
        return false;
      } catch (e) {
        return (e as { code: string }).code === "TRANSPORT_UNAVAILABLE";
      }
    }, 5000, "TRANSPORT_UNAVAILABLE");
    const h = await opened(c, g.name, { side: "consumer" });
    expect(h.transport).toBe("SHARED_MEMORY");
    expect(h.reason).toMatch(/same boot id/);
  });

  it("removing a file from the catalogue closes its attachments", async () => {
    const f = await file({ kind: "VARIABLES" });
    const c = await client();
    const h = await opened(c, f.name, { side: "consumer" });
    await db.sharedFile.delete({ where: { id: f.id } });
    const why = await eventually(() => h.closedReason, 5000, "attachment closed");
    expect(why.code).toBe("FILE_NOT_FOUND");
  });
});

describe("attachments and dead clients", () => {
  it("attachments are reported to the control plane (and audited); SIGKILL of a client removes its attachment", async () => {
    const f = await file({ kind: "VARIABLES" });
    await opened(await client(), f.name, { side: "consumer" });
    const holder = runClient("peer", { socketPath: w.socketPath, apiKey: ro.raw, role: "hold", file: f.name });
    const { pid } = (await holder.waitFor((m) => m.opened === true)) as { pid: number };
    expect(pid).toBe(holder.child.pid); // the attachment's pid is the kernel's (SO_PEERCRED)
    await eventually(async () => (await db.attachment.count({ where: { sharedFileId: f.id, pid } })) === 1, 10_000, "attachment reported");
    holder.child.kill("SIGKILL");
    // Socket close is immediate; the report to the control plane follows within ~100 ms.
    await eventually(async () => (await db.attachment.count({ where: { sharedFileId: f.id, pid } })) === 0, 10_000, "attachment removed");
    expect(await db.auditEvent.count({ where: { tenantId: t.tenantId, action: "attachment.closed", targetId: f.id } })).toBeGreaterThanOrEqual(1);
  });
});

describe("malformed input", () => {
  it("100,000+ random and mutated frames never crash the worker, and other clients keep working", async () => {
    const f = await file({ kind: "VARIABLES" });
    const bystander = await client();
    const h = (await opened(bystander, f.name, { side: "producer" })) as VariablesHandle;
    h.write("a", 0);

    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const net = await import("node:net");

    // 1) Authenticated sessions receive body-mutated frames (framing intact: every one is answered).
    const valid = [
      encodeFrame(MessageType.OPEN, 1, { name: f.name, side: "CONSUMER" }),
      encodeFrame(MessageType.CLOSE, 1, { attachmentId: "x" }),
      encodeFrame(MessageType.HEARTBEAT, 1, {}),
      encodeFrame(MessageType.OPEN, 1, { name: "nope", side: "PRODUCER", performance: { maxLatencyMicros: 3 } }),
    ];
    let sent = 0;
    let answered = 0;
    for (let conn = 0; conn < 4; conn++) {
      const sock = net.connect(w.socketPath);
      await new Promise((r) => sock.once("connect", r));
      const dec = new FrameDecoder();
      let got = 0;
      sock.on("data", (c: Buffer) => (got += dec.push(c).length));
      sock.write(encodeFrame(MessageType.HELLO, 7, { protocol: 1, apiKey: rw.raw, pid: process.pid }));
      await eventually(() => got === 1, 5000, "welcome");
      const frames: Buffer[] = [];
      for (let i = 0; i < 25_000; i++) {
        const base = Buffer.from(valid[Math.floor(rand() * valid.length)]!);
        base.writeUInt32LE(i + 10, 4);
        const flips = 1 + Math.floor(rand() * 3);
        for (let k = 0; k < flips; k++) {
          const pos = 12 + Math.floor(rand() * (base.length - 12));
          base[pos] = Math.floor(rand() * 256);
        }
        // Sometimes change the type to another known type (server-to-client types are refused).
        if (rand() < 0.1) base[3] = 1 + Math.floor(rand() * 12);
        frames.push(base);
      }
      sock.write(Buffer.concat(frames));
      sent += frames.length;
      await eventually(() => got === frames.length + 1 || sock.destroyed, 60_000, "answers");
      answered += got - 1;
      sock.destroy();
    }
    expect(sent).toBe(100_000);
    // Every mutated frame got an answer, except those whose mutated type was HELLO and the
    // (few) OPENs that happened to succeed: all are still answered, so counts match exactly.
    expect(answered).toBe(100_000);

    // 2) Connections of raw garbage / header-corrupted frames: each is answered and closed.
    for (let i = 0; i < 500; i++) {
      const sock = net.connect(w.socketPath);
      await new Promise((r) => sock.once("connect", r));
      const junk = Buffer.alloc(12 + Math.floor(rand() * 64));
      for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rand() * 256);
      if (i % 2) (junk[0] = 0x43), (junk[1] = 0x59), (junk[2] = 1), junk.writeUInt32LE(0xffffffff, 8);
      sock.write(junk);
      await new Promise((r) => (sock.once("close", r), sock.on("data", () => undefined), sock.on("error", () => undefined)));
    }

    // The worker is alive and the bystander's session and mapping still work.
    expect(w.child.exitCode).toBeNull();
    const health = (await (await fetch(`http://127.0.0.1:${w.httpPort}/healthz`)).json()) as { status: string };
    expect(health.status).toBe("running");
    h.write("a", 42);
    expect(h.read("a").value).toBe(42);
    const again = await bystander.open(f.name, { side: "consumer" });
    expect(again.readOnly).toBe(true);
  });
});

describe("worker restart", () => {
  it("clients get a clear error, reconnect by themselves, and can open again", async () => {
    const local = await createTenant();
    await fastSettings(local);
    const worker = await joinedWorker(cp, local);
    const key = await createKey(local.tenantId, ["data:write"]);
    const f = await createSharedFile(local.tenantId, { name: unique("restart"), kind: "VARIABLES" });
    const c = await connect({ socketPath: worker.socketPath, apiKey: key.raw });
    try {
      const h = (await opened(c, f.name, { side: "producer" })) as VariablesHandle;
      const disconnected = new Promise<{ code: string }>((r) => c.once("disconnected", r));
      const code = await worker.stop("SIGTERM");
      if (code !== 0) console.log(worker.lines.slice(-30).join("\n"));
      expect(code).toBe(0);
      const why = await disconnected;
      expect(["CONNECTION_CLOSED", "DRAINING"], JSON.stringify(why)).toContain(why.code);
      expect(() => h.write("a", 1)).toThrow(/CONNECTION_CLOSED|DRAINING/);
      await expect(c.open(f.name, { side: "producer" })).rejects.toMatchObject({ retryable: true });
      const reconnected = new Promise<void>((r) => c.once("reconnected", () => r()));
      // Same state dir, no join token: the stored credential is used.
      const restarted = await startWorker({ controlPlaneUrl: cp.url, stateDir: worker.stateDir });
      try {
        await reconnected;
        const h2 = (await c.open(f.name, { side: "producer" })) as VariablesHandle;
        h2.write("a", 2);
        expect(h2.read("a").value).toBe(2);
      } finally {
        await c.close();
        await restarted.stop();
      }
    } finally {
      await c.close();
      await worker.stop();
    }
  });
});

/** The raw protocol: HELLO + OPEN on a socket, FETCH_FD on a second connection. */
async function rawOpen(apiKey: string, name: string, side: "PRODUCER" | "CONSUMER"): Promise<{ fd: number; close(): void }> {
  const net = await import("node:net");
  const sock = net.connect(w.socketPath);
  await new Promise((r) => sock.once("connect", r));
  const dec = new FrameDecoder();
  const frames: { type: number; body: unknown }[] = [];
  sock.on("data", (c: Buffer) => frames.push(...dec.push(c)));
  sock.write(encodeFrame(MessageType.HELLO, 1, { protocol: 1, apiKey, pid: process.pid }));
  sock.write(encodeFrame(MessageType.OPEN, 2, { name, side }));
  await eventually(() => frames.length >= 2, 5000, "raw open");
  const opened = frames[1]!.body as { fdTicket: string };
  const s = connectUnix(w.socketPath);
  sendWithFds(s, encodeFrame(MessageType.FETCH_FD, 1, { ticket: opened.fdTicket }), []);
  const r = await recvWithFds(s, { maxBytes: 4096, maxFds: 1, timeoutMs: 5000 });
  closeFd(s);
  expect(r.fds).toHaveLength(1);
  return { fd: r.fds[0]!, close: () => sock.destroy() };
}
