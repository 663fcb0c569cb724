/**
 * API keys against a real PostgreSQL: create/list/revoke, authentication outcomes (each a 401
 * with its own code and a clear JSON error through REST), scopes and patterns, audit of
 * failures, the per-IP rate limit, and lastUsedAt throttling.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as filesRoute from "~/app/api/v1/files/route";
import { PLATFORM_CHAIN } from "~/server/audit";
import { db } from "~/server/db";
import { AppError } from "~/server/errors";
import {
  AUTH_FAILURE_LIMIT,
  AUTH_FAILURE_WINDOW_SECONDS,
  authenticateApiKey,
  createApiKey,
  listApiKeys,
  resetApiKeyCaches,
  revokeApiKey,
} from "~/server/services/api-keys";
import { RateLimitedError } from "~/server/services/rate-limit";
import { uniqueName } from "../helpers/unique";
import { addMember, createTestKey, createTestTenant, restRequest, uniqueIp, failureOf, type TestTenant } from "./control-plane-fixtures";

let tenant: TestTenant;

beforeAll(async () => {
  tenant = await createTestTenant();
});
beforeEach(() => resetApiKeyCaches());
afterAll(async () => {
  await db.$disconnect();
});

const meta = (ip = uniqueIp()) => ({ requestId: uniqueName("req"), ip, userAgent: "vitest" });

describe("create, list, revoke", () => {
  it("shows the secret once and stores only its hash", async () => {
    const created = await createApiKey(tenant.owner.ctx, { name: uniqueName("ci"), scopes: ["files:read"], filePatterns: ["sensors.*"] });
    expect(created.secret).toMatch(new RegExp(`^cmy_${created.apiKey.prefix}_[A-Za-z0-9_-]{43}$`));
    const row = await db.apiKey.findUniqueOrThrow({ where: { id: created.apiKey.id } });
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(created.secret.split("_").slice(2).join("_"));

    const page = await listApiKeys(tenant.owner.ctx, { limit: 100 });
    const listed = page.items.find((k) => k.id === created.apiKey.id);
    expect(listed).toMatchObject({ prefix: created.apiKey.prefix, scopes: ["files:read"], filePatterns: ["sensors.*"], status: "active", lastUsedAt: null });
    expect(JSON.stringify(page)).not.toContain(row.hash);

    const audit = await db.auditEvent.findFirst({ where: { tenantId: tenant.tenantId, action: "apikey.created", targetId: created.apiKey.id } });
    expect(audit).toMatchObject({ actorType: "USER", actorId: tenant.owner.userId, outcome: "SUCCESS" });
    expect(JSON.stringify(audit?.after)).not.toContain(created.secret);
  });

  it("refuses a duplicate name with a field error", async () => {
    const name = uniqueName("dup");
    await createApiKey(tenant.owner.ctx, { name, scopes: ["files:read"] });
    const err = await failureOf(createApiKey(tenant.owner.ctx, { name, scopes: ["files:read"] }));
    expect(err.code).toBe("CONFLICT");
    expect(err.fields?.name).toBeDefined();
  });

  it("lets only roles with apikey:create create keys", async () => {
    for (const role of ["OPERATOR", "VIEWER"] as const) {
      const member = await addMember(tenant.tenantId, role);
      const err = await failureOf(createApiKey(member.ctx, { name: uniqueName("x"), scopes: ["files:read"] }));
      expect(err.code).toBe("FORBIDDEN");
      expect(err.userMessage).toContain("apikey:create");
    }
    const admin = await addMember(tenant.tenantId, "ADMIN");
    await expect(createApiKey(admin.ctx, { name: uniqueName("x"), scopes: ["audit:read", "nodes:manage"] })).resolves.toBeDefined();
  });

  it("pages through keys by name", async () => {
    const t = await createTestTenant();
    for (const n of ["k-a", "k-b", "k-c"]) await createApiKey(t.owner.ctx, { name: n, scopes: ["files:read"] });
    const first = await listApiKeys(t.owner.ctx, { limit: 2 });
    expect(first.items.map((k) => k.name)).toEqual(["k-a", "k-b"]);
    const second = await listApiKeys(t.owner.ctx, { limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((k) => k.name)).toEqual(["k-c"]);
    expect(second.nextCursor).toBeNull();
  });

  it("revokes idempotently, auditing once, and the key stops working at once", async () => {
    const key = await createTestKey(tenant.owner, ["files:read"]);
    await expect(authenticateApiKey(key.raw, meta())).resolves.toMatchObject({ tenantId: tenant.tenantId });
    const revoked = await revokeApiKey(tenant.owner.ctx, { id: key.id });
    expect(revoked.status).toBe("revoked");
    await revokeApiKey(tenant.owner.ctx, { id: key.id });
    expect(await db.auditEvent.count({ where: { action: "apikey.revoked", targetId: key.id } })).toBe(1);
    // No cache reset here: revocation must invalidate this replica's cache itself.
    expect((await failureOf(authenticateApiKey(key.raw, meta()))).code).toBe("API_KEY_REVOKED");
  });

  it("cannot revoke another tenant's key (not found)", async () => {
    const other = await createTestTenant();
    const key = await createTestKey(other.owner, ["files:read"]);
    expect((await failureOf(revokeApiKey(tenant.owner.ctx, { id: key.id }))).code).toBe("NOT_FOUND");
    expect((await db.apiKey.findUniqueOrThrow({ where: { id: key.id } })).revokedAt).toBeNull();
  });
});

describe("authentication", () => {
  it("returns the key's actor and tenant for a valid key", async () => {
    const key = await createTestKey(tenant.owner, ["files:read", "nodes:read"], { filePatterns: ["a.*"] });
    const auth = await authenticateApiKey(key.raw, meta());
    expect(auth).toEqual({
      tenantId: tenant.tenantId,
      actor: expect.objectContaining({ type: "API_KEY", apiKeyId: key.id, tenantId: tenant.tenantId, scopes: ["files:read", "nodes:read"], filePatterns: ["a.*"] }),
    });
  });

  it.each([
    ["malformed", () => "not-a-key", "API_KEY_INVALID"],
    ["unknown prefix", () => `cmy_zzzz${uniqueName("").slice(-6).replace(/[^a-z0-9]/g, "0")}_${"A".repeat(43)}`, "API_KEY_INVALID"],
  ])("rejects a %s key with %s", async (_what, raw, code) => {
    const err = await failureOf(authenticateApiKey(raw(), meta()));
    expect(err.code).toBe(code);
    expect(err.httpStatus).toBe(401);
  });

  it("rejects a wrong secret with API_KEY_INVALID (same answer as an unknown key)", async () => {
    const key = await createTestKey(tenant.owner, ["files:read"]);
    const wrong = key.raw.slice(0, -1) + (key.raw.endsWith("A") ? "B" : "A");
    const err = await failureOf(authenticateApiKey(wrong, meta()));
    expect(err.code).toBe("API_KEY_INVALID");
  });

  it("rejects an expired key with API_KEY_EXPIRED naming the date", async () => {
    const expiresAt = new Date(Date.now() + 3000);
    const key = await createTestKey(tenant.owner, ["files:read"], { expiresAt });
    await expect(authenticateApiKey(key.raw, meta())).resolves.toBeDefined();
    await new Promise((r) => setTimeout(r, expiresAt.getTime() - Date.now() + 100));
    // Expiry is checked on every request, even with the row cached.
    const err = await failureOf(authenticateApiKey(key.raw, meta()));
    expect(err.code).toBe("API_KEY_EXPIRED");
    expect(err.userMessage).toMatch(/expired on \d{4}-/);
  });

  it("answers every failure over REST as 401 JSON with its code and a clear message", async () => {
    const revokedKey = await createTestKey(tenant.owner, ["files:read"]);
    await revokeApiKey(tenant.owner.ctx, { id: revokedKey.id });
    const expiredKey = await createTestKey(tenant.owner, ["files:read"]);
    await db.apiKey.update({ where: { id: expiredKey.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const valid = await createTestKey(tenant.owner, ["files:read"]);
    const cases: [string, string][] = [
      [valid.raw.slice(0, -2) + "xx", "API_KEY_INVALID"],
      ["cmy_unknown123_" + "x".repeat(43), "API_KEY_INVALID"],
      [revokedKey.raw, "API_KEY_REVOKED"],
      [expiredKey.raw, "API_KEY_EXPIRED"],
    ];
    for (const [raw, code] of cases) {
      const res = await filesRoute.GET(restRequest("GET", "/files", { key: raw }));
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
      const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
      expect(body.error.code).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(20);
      expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
    }
    const none = await filesRoute.GET(restRequest("GET", "/files", {}));
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe("UNAUTHENTICATED");
    const notBearer = new Request("http://localhost/api/v1/files", { headers: { authorization: `Basic ${valid.raw}` } });
    expect((await filesRoute.GET(notBearer)).status).toBe(401);
  });

  it("audits failures to the key's tenant when the prefix matched, else to the platform chain", async () => {
    const key = await createTestKey(tenant.owner, ["files:read"]);
    const m1 = meta();
    await failureOf(authenticateApiKey(key.raw.slice(0, -1) + (key.raw.endsWith("A") ? "B" : "A"), m1));
    const inTenant = await db.auditEvent.findFirst({ where: { requestId: m1.requestId } });
    expect(inTenant).toMatchObject({ chainId: tenant.tenantId, tenantId: tenant.tenantId, action: "apikey.auth_failed", outcome: "DENIED", targetId: key.id, ip: m1.ip });
    expect(inTenant?.after).toMatchObject({ code: "API_KEY_INVALID", reason: "wrong secret" });

    const m2 = meta();
    await failureOf(authenticateApiKey(`cmy_nobody0000_${"x".repeat(43)}`, m2));
    const onPlatform = await db.auditEvent.findFirst({ where: { requestId: m2.requestId } });
    expect(onPlatform).toMatchObject({ chainId: PLATFORM_CHAIN, tenantId: null, action: "apikey.auth_failed", actorType: "ANONYMOUS" });
  });

  it("updates lastUsedAt on use, at most once a minute", async () => {
    const key = await createTestKey(tenant.owner, ["files:read"]);
    await authenticateApiKey(key.raw, meta());
    await expect.poll(async () => (await db.apiKey.findUniqueOrThrow({ where: { id: key.id } })).lastUsedAt, { timeout: 5000 }).not.toBeNull();
    const first = (await db.apiKey.findUniqueOrThrow({ where: { id: key.id } })).lastUsedAt!;
    for (let i = 0; i < 5; i++) await authenticateApiKey(key.raw, meta());
    resetApiKeyCaches(); // even a fresh cache (another replica) must not write again within the minute
    await authenticateApiKey(key.raw, meta());
    await new Promise((r) => setTimeout(r, 200));
    expect((await db.apiKey.findUniqueOrThrow({ where: { id: key.id } })).lastUsedAt).toEqual(first);
  });
});

describe("rate limiting of failed authentications", () => {
  it(`answers 429 with Retry-After after ${AUTH_FAILURE_LIMIT} failures from one IP, and only for that IP`, async () => {
    // Fixed windows start on multiples of the window length (database clock): do not start
    // the 21 failures a few seconds before a boundary, or the count would restart mid-test.
    const [row] = await db.$queryRaw<{ into: number }[]>`
      SELECT (extract(epoch FROM now()) % ${AUTH_FAILURE_WINDOW_SECONDS}::int)::float8 AS "into"`;
    const into = row?.into ?? 0;
    if (AUTH_FAILURE_WINDOW_SECONDS - into < 10) await new Promise((r) => setTimeout(r, (AUTH_FAILURE_WINDOW_SECONDS - into + 0.5) * 1000));
    const ip = uniqueIp();
    const bad = `cmy_ratelimit1_${"x".repeat(43)}`;
    for (let i = 0; i < AUTH_FAILURE_LIMIT; i++) {
      expect((await failureOf(authenticateApiKey(bad, meta(ip)))).code).toBe("API_KEY_INVALID");
    }
    const limited = await failureOf(authenticateApiKey(bad, meta(ip)));
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect(limited.httpStatus).toBe(429);
    expect((limited as RateLimitedError).retryAfterSeconds).toBeGreaterThanOrEqual(1);

    // Even a valid key is refused from that IP for the rest of the window...
    const key = await createTestKey(tenant.owner, ["files:read"]);
    const res = await filesRoute.GET(restRequest("GET", "/files", { key: key.raw, ip }));
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
    // ...while other addresses are unaffected.
    expect((await filesRoute.GET(restRequest("GET", "/files", { key: key.raw, ip: uniqueIp() }))).status).toBe(200);

    // The counter lives in PostgreSQL, so another replica (fresh process state) sees it too.
    resetApiKeyCaches();
    expect((await failureOf(authenticateApiKey(bad, meta(ip)))).code).toBe("RATE_LIMITED");
    // Only the first refusal of the window is audited (a flood cannot flood the log).
    const limitedEvents = await db.auditEvent.count({ where: { action: "apikey.auth_failed", ip, after: { path: ["code"], equals: "RATE_LIMITED" } } });
    expect(limitedEvents).toBe(1);
  });
});

describe("scopes and patterns", () => {
  it("enforces scopes: a files:read key can list but not create", async () => {
    const key = await createTestKey(tenant.owner, ["files:read"]);
    expect((await filesRoute.GET(restRequest("GET", "/files", { key: key.raw }))).status).toBe(200);
    const res = await filesRoute.POST(restRequest("POST", "/files", { key: key.raw }, { name: uniqueName("f"), kind: "variables", layout: { type: "variables", slots: [{ name: "v", maxSize: 8 }] } }));
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: "FORBIDDEN" });
    expect(body.error.message).toContain("file:create");
  });

  it("enforces file patterns: matching files only, others invisible", async () => {
    const t = await createTestTenant();
    const writer = await createTestKey(t.owner, ["files:write"]);
    for (const name of ["sensors.a", "sensors.b", "billing"]) {
      const res = await filesRoute.POST(restRequest("POST", "/files", { key: writer.raw }, { name, kind: "variables", layout: { type: "variables", slots: [{ name: "v", maxSize: 8 }] } }));
      expect(res.status).toBe(201);
    }
    const limited = await createTestKey(t.owner, ["files:write"], { filePatterns: ["sensors.*"] });
    const list = (await (await filesRoute.GET(restRequest("GET", "/files", { key: limited.raw }))).json()) as { items: { name: string }[] };
    expect(list.items.map((f) => f.name)).toEqual(["sensors.a", "sensors.b"]);
    const outside = await filesRoute.POST(restRequest("POST", "/files", { key: limited.raw }, { name: "billing2", kind: "variables", layout: { type: "variables", slots: [{ name: "v", maxSize: 8 }] } }));
    expect(outside.status).toBe(403);
    expect(((await outside.json()) as { error: { fields?: Record<string, string[]> } }).error.fields?.name).toBeDefined();
  });
});
