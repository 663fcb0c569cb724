/**
 * The app server's direct path (server.ts → src/server/http/*) on a real node:http server and a
 * real PostgreSQL: every REST_ROUTES route and worker endpoint is served by the same handler the
 * Next.js route file exports, with the same bytes; everything else falls through to Next.js
 * (here a stand-in); bodies over the limit are refused; streams are passed through unbuffered
 * and cancelled when the client leaves; the API-key cache's revocation bound holds.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as filesRoute from "~/app/api/v1/files/route";
import { db } from "~/server/db";
import { DirectRoutes, REST_BASE, addRestRoutes, addWorkerRoutes, sourceRouteLoader } from "~/server/http/direct-routes";
import { createAppListener } from "~/server/http/listener";
import { negotiateEncoding } from "~/server/http/node-adapter";
import { MAX_BODY_BYTES } from "~/server/rest/body";
import { DIRECT, type RequestLike } from "~/server/rest/direct";
import { REST_ROUTES } from "~/server/rest/routes";
import { API_KEY_CACHE_TTL_MS, authenticateApiKey, resetApiKeyCaches } from "~/server/services/api-keys";
import { createSharedFile } from "~/server/services/shared-files";
import { uniqueName } from "../helpers/unique";
import { createTestKey, createTestTenant, failureOf, fileBody, uniqueIp, type TestTenant } from "./control-plane-fixtures";

let server: http.Server;
let base: string;
let tenant: TestTenant;
let key: string;
const table = new DirectRoutes();

/** What a test route's stream saw: chunks pulled, cancelled by the server. */
const stream = { release: () => undefined as void, cancelled: Promise.resolve() as Promise<void> };

beforeAll(async () => {
  // Without a build here: the route files' sources (server.ts loads the same files from the build).
  const load = sourceRouteLoader(path.join(process.cwd(), "src", "app"));
  await addRestRoutes(table, REST_ROUTES, load);
  await addWorkerRoutes(table, path.join(process.cwd(), "src", "app"), load);
  // A streaming route: sends "first\n", then waits until the test has received it.
  table.add("GET", "/api/test-stream", () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let cancelled!: () => void;
    stream.cancelled = new Promise<void>((r) => (cancelled = r));
    stream.release = release;
    let step = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (step++ === 0) return c.enqueue(new TextEncoder().encode("first\n"));
        await gate;
        c.enqueue(new TextEncoder().encode("second\n"));
      },
      cancel: () => cancelled(),
    });
    return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-store" } });
  });
  server = http.createServer(
    createAppListener(table, (_req, res) => {
      res.writeHead(418, { "content-type": "text/plain" });
      res.end("next.js");
    }),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  tenant = await createTestTenant();
  key = (await createTestKey(tenant.owner, ["files:read", "files:write"])).raw;
  for (let i = 0; i < 3; i++) await createSharedFile(tenant.owner.ctx, fileBody(`srv.file-${i}`));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await db.$disconnect();
});

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request over node:http (no client-side decompression or header rewriting). */
function send(method: string, url: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${url}`, { method, headers: { "x-forwarded-for": uniqueIp(), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const auth = () => ({ authorization: `Bearer ${key}` });

describe("routing", () => {
  it("serves every REST_ROUTES route directly (routes added there are picked up)", () => {
    for (const route of REST_ROUTES) {
      const samplePath = route.path.replace(/\{(\w+)\}/g, "sample");
      const match = table.match(route.method.toUpperCase(), `${REST_BASE}${samplePath}`);
      expect(match?.route.path, `${route.method} ${route.path}`).toBe(`${REST_BASE}${route.path}`);
    }
  });

  it("sees the client's address as Next.js does when no proxy set x-forwarded-for (audit log, per-IP limits)", async () => {
    const requestId = uniqueName("req");
    const res = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${base}/api/v1/files`, { headers: { authorization: "Bearer cmy_nosuchkey1_" + "x".repeat(43), "x-request-id": requestId } }, (r) => {
        r.resume();
        r.on("end", () => resolve(r.statusCode!));
      });
      req.on("error", reject);
      req.end();
    });
    expect(res).toBe(401);
    const event = await db.auditEvent.findFirst({ where: { requestId, action: "apikey.auth_failed" } });
    expect(event?.ip).toBe("127.0.0.1");
    // A proxy's header wins.
    const proxied = await send("GET", "/api/v1/files", { authorization: "Bearer cmy_nosuchkey2_" + "x".repeat(43), "x-request-id": `${requestId}-p`, "x-forwarded-for": "203.0.113.7" });
    expect(proxied.status).toBe(401);
    expect((await db.auditEvent.findFirst({ where: { requestId: `${requestId}-p` } }))?.ip).toBe("203.0.113.7");
  });

  it("serves the worker endpoints directly", async () => {
    expect(table.match("POST", "/api/worker/heartbeat")).not.toBeNull();
    const res = await send("POST", "/api/worker/heartbeat", { "content-type": "application/json" }, "{}");
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body.toString())).toMatchObject({ error: { code: "NODE_CREDENTIAL_INVALID" } });
  });

  it.each([
    ["an unknown path", "GET", "/api/v1/nope"],
    ["an undeclared method", "PUT", "/api/v1/files"],
    ["HEAD", "HEAD", "/api/v1/files"],
    ["a trailing slash", "GET", "/api/v1/files/"],
    ["the UI", "GET", "/files"],
    ["a malformed escape", "GET", "/api/v1/files/%E0%A4%A"],
  ])("leaves %s to Next.js", async (_what, method, url) => {
    const res = await send(method, url, auth());
    expect(res.status).toBe(418);
  });
});

describe("responses", () => {
  it("answers exactly what the route file's handler answers", async () => {
    const requestId = uniqueName("req");
    const viaServer = await send("GET", "/api/v1/files?limit=2", { ...auth(), "x-request-id": requestId });
    const direct = await filesRoute.GET(new Request(`http://localhost/api/v1/files?limit=2`, { headers: { ...auth(), "x-request-id": requestId } }));
    expect(viaServer.status).toBe(direct.status);
    expect(viaServer.body.toString()).toBe(await direct.text());
    for (const h of ["content-type", "cache-control", "x-request-id"]) expect(viaServer.headers[h]).toBe(direct.headers.get(h));
    // What Next.js adds to route-handler responses.
    expect(viaServer.headers.vary).toBe("rsc, next-router-state-tree, next-router-prefetch, next-router-segment-prefetch, Accept-Encoding");
    // Every header the handler sets, no other (node's own: date, connection, keep-alive, framing).
    const own = Object.keys(viaServer.headers).filter((h) => !["date", "connection", "keep-alive", "content-length", "vary"].includes(h));
    expect(own.sort()).toEqual([...direct.headers.keys()].sort());
    // A complete JSON answer goes out in one piece with its length, not chunked.
    expect(viaServer.headers["transfer-encoding"]).toBeUndefined();
    expect(Number(viaServer.headers["content-length"])).toBe(viaServer.body.length);
    expect(JSON.parse(viaServer.body.toString()).items).toHaveLength(2);
  });

  it("answers the REST and worker routes without building web Request/Response objects", () => {
    // The direct core the route files attach (rest/direct.ts): what the benchmark's read runs.
    for (const route of REST_ROUTES) {
      const match = table.match(route.method.toUpperCase(), `${REST_BASE}${route.path.replace(/\{(\w+)\}/g, "sample")}`);
      expect(match?.route.direct, `${route.method} ${route.path}`).toBeTypeOf("function");
    }
    expect(table.match("POST", "/api/worker/heartbeat")?.route.direct).toBeTypeOf("function");
  });

  it("gives handlers the headers a web Request would have, x-forwarded-* filled in as Next.js does", async () => {
    const seen: Record<string, string | null>[] = [];
    const names = ["host", "x-forwarded-for", "x-forwarded-host", "x-forwarded-port", "x-forwarded-proto", "x-multi", "authorization", "x-absent"];
    const probe = new DirectRoutes();
    probe.add("GET", "/api/probe", async (req: Request) => {
      seen.push(Object.fromEntries(names.map((n) => [n, req.headers.get(n)])));
      return new Response("{}");
    });
    const probeDirect = Object.assign(async () => new Response("{}"), {
      [DIRECT]: async (req: RequestLike) => {
        seen.push(Object.fromEntries(names.map((n) => [n, req.headers.get(n)])));
        return { status: 200, headers: {}, body: "{}" };
      },
    });
    probe.add("GET", "/api/probe-direct", probeDirect);
    const probeServer = http.createServer(createAppListener(probe, (_req, res) => res.end()));
    await new Promise<void>((r) => probeServer.listen(0, "127.0.0.1", r));
    const port = (probeServer.address() as AddressInfo).port;
    try {
      for (const url of ["/api/probe", "/api/probe-direct"]) {
        await new Promise<void>((resolve, reject) => {
          const req = http.request(`http://127.0.0.1:${port}${url}`, { headers: ["Host", `127.0.0.1:${port}`, "X-Multi", "a", "x-multi", "b", "Authorization", "Bearer x"] as unknown as http.OutgoingHttpHeaders }, (res) => {
            res.resume();
            res.on("end", resolve);
          });
          req.on("error", reject);
          req.end();
        });
      }
    } finally {
      probeServer.closeAllConnections();
      await new Promise((r) => probeServer.close(r));
    }
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[0]).toMatchObject({ "x-forwarded-for": "127.0.0.1", "x-forwarded-proto": "http", "x-forwarded-port": String(port), "x-multi": "a, b", "x-absent": null });
  });

  it("keeps the error envelope, status and WWW-Authenticate of a refused key", async () => {
    const res = await send("GET", "/api/v1/files", { authorization: "Bearer cmy_nope" });
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toBe('Bearer realm="commy"');
    expect(JSON.parse(res.body.toString())).toMatchObject({ error: { code: "API_KEY_INVALID", requestId: res.headers["x-request-id"] } });
  });

  it("passes path params decoded, and 201 with Location", async () => {
    const name = `srv.new-${Date.now()}`;
    const created = await send("POST", "/api/v1/files", { ...auth(), "content-type": "application/json" }, JSON.stringify(fileBody(name)));
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/api/v1/files/${name}`);
    const got = await send("GET", `/api/v1/files/${encodeURIComponent(name)}`, auth());
    expect(got.status).toBe(200);
    expect(JSON.parse(got.body.toString()).name).toBe(name);
  });

  it("gzips compressible answers for clients that accept it, like Next.js", async () => {
    const res = await send("GET", "/api/v1/files?limit=3", { ...auth(), "accept-encoding": "gzip, deflate, br" });
    expect(res.headers["content-encoding"]).toBe("gzip");
    expect(JSON.parse(gunzipSync(res.body).toString()).items).toHaveLength(3);
    expect(negotiateEncoding("deflate")).toBe("deflate");
    expect(negotiateEncoding("gzip;q=0, deflate")).toBe("deflate");
    expect(negotiateEncoding("br")).toBeNull();
    expect(negotiateEncoding("*")).toBe("gzip");
  });
});

describe("request bodies", () => {
  it("refuses a declared Content-Length over the limit with 413", async () => {
    const res = await send("POST", "/api/v1/files", { ...auth(), "content-type": "application/json" }, Buffer.alloc(MAX_BODY_BYTES + 1, 32));
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body.toString())).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
  });

  it("refuses a chunked body that grows over the limit with 413", async () => {
    const res = await new Promise<Raw>((resolve, reject) => {
      const req = http.request(`${base}/api/v1/files`, { method: "POST", headers: { ...auth(), "content-type": "application/json", "x-forwarded-for": uniqueIp() } }, (r) => {
        const chunks: Buffer[] = [];
        r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () => resolve({ status: r.statusCode!, headers: r.headers, body: Buffer.concat(chunks) }));
      });
      req.on("error", reject);
      for (let i = 0; i < 5; i++) req.write(Buffer.alloc(MAX_BODY_BYTES / 4, 32));
      req.end();
    });
    expect(res.status).toBe(413);
  });
});

describe("streams", () => {
  it("passes chunks through as they come and cancels the stream when the client leaves", async () => {
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${base}/api/test-stream`, (res) => {
        expect(res.headers["content-type"]).toBe("text/event-stream");
        res.on("data", (c: Buffer) => {
          received.push(c.toString());
          // The first chunk arrived while the producer is still blocked: it was not buffered.
          if (received.length === 1) {
            stream.release();
          } else {
            req.destroy();
            resolve();
          }
        });
      });
      req.on("error", (e) => ((e as NodeJS.ErrnoException).code === "ECONNRESET" ? undefined : reject(e)));
    });
    expect(received).toEqual(["first\n", "second\n"]);
    await stream.cancelled; // resolves only if the server cancelled the stream
  });
});

describe("API-key cache", () => {
  it("stops accepting a key revoked by another process within API_KEY_CACHE_TTL_MS", async () => {
    resetApiKeyCaches();
    const k = await createTestKey(tenant.owner, ["files:read"]);
    const meta = { requestId: uniqueName("req"), ip: uniqueIp(), userAgent: "vitest" };
    vi.useFakeTimers({ toFake: ["Date"], now: new Date() });
    try {
      await expect(authenticateApiKey(k.raw, meta)).resolves.toMatchObject({ tenantId: tenant.tenantId });
      // Revoked elsewhere (another replica or worker process): this process's cache does not know.
      await db.apiKey.update({ where: { id: k.id }, data: { revokedAt: new Date() } });
      vi.setSystemTime(Date.now() + API_KEY_CACHE_TTL_MS - 1);
      await expect(authenticateApiKey(k.raw, meta)).resolves.toMatchObject({ tenantId: tenant.tenantId });
      vi.setSystemTime(Date.now() + 2);
      expect((await failureOf(authenticateApiKey(k.raw, meta))).code).toBe("API_KEY_REVOKED");
    } finally {
      vi.useRealTimers();
    }
    expect(API_KEY_CACHE_TTL_MS).toBeLessThanOrEqual(2_000);
  });

  it("is one cache for every copy of the module in the process (app server and Next.js bundle)", async () => {
    resetApiKeyCaches();
    const k = await createTestKey(tenant.owner, ["files:read"]);
    const meta = { requestId: uniqueName("req"), ip: uniqueIp(), userAgent: "vitest" };
    await expect(authenticateApiKey(k.raw, meta)).resolves.toBeTruthy();
    vi.resetModules();
    const copy = await import("~/server/services/api-keys");
    expect(copy.authenticateApiKey).not.toBe(authenticateApiKey);
    await copy.revokeApiKey(tenant.owner.ctx, { id: k.id });
    // Revoked through the other copy: this copy refuses at once, no TTL involved.
    expect((await failureOf(authenticateApiKey(k.raw, meta))).code).toBe("API_KEY_REVOKED");
  });
});
