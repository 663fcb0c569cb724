/**
 * The shared-file service against a real PostgreSQL: CRUD, pagination, names unique per tenant,
 * optimistic concurrency on `revision` (also under real concurrency), validation of merged
 * updates, and audit events with before/after in the same transaction.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantContext } from "~/server/actor";
import { db } from "~/server/db";
import { AppError } from "~/server/errors";
import { createSharedFile, deleteSharedFile, getSharedFile, listSharedFiles, listSharedFilesJson, sharedFilePageJson, updateSharedFile } from "~/server/services/shared-files";
import { uniqueName } from "../helpers/unique";
import { addMember, createTestTenant, fileBody, failureOf, type TestTenant } from "./control-plane-fixtures";

let tenant: TestTenant;
let ctx: TenantContext;

beforeAll(async () => {
  tenant = await createTestTenant();
  ctx = tenant.owner.ctx;
});
afterAll(async () => {
  await db.$disconnect();
});

describe("create and read", () => {
  it("stores every field of the request model and reads it back the same", async () => {
    const input = {
      name: uniqueName("orders"),
      description: "order flow",
      kind: "stream" as const,
      pattern: "request-response" as const,
      topology: "many-to-one" as const,
      directionality: "bidirectional" as const,
      serialization: "cbor" as const,
      maxSizeBytes: 8 << 20,
      ttlSeconds: 3600,
      maxConnections: 16,
      creationPolicy: "create" as const,
      existencePolicy: "must-not-exist" as const,
      autoCleanup: false,
      persistAfterDisconnect: true,
      requiredPermissions: ["data:write" as const],
      transportPreference: "prefer-network" as const,
      performance: { maxLatencyMicros: 250, minThroughputMsgPerSec: 50_000, consistency: "strong" as const, durability: "durable" as const },
      layout: { type: "stream" as const, messageMaxSize: 1024, capacity: 4096, overflow: "refuse" as const, maxConsumers: 8 },
    };
    const created = await createSharedFile(ctx, input);
    expect(created).toMatchObject({ ...input, status: "active", revision: 1 });
    expect(await getSharedFile(ctx, input.name)).toEqual(created);
    const row = await db.sharedFile.findUniqueOrThrow({ where: { id: created.id } });
    expect(row).toMatchObject({ tenantId: tenant.tenantId, kind: "STREAM", pattern: "REQUEST_RESPONSE", topology: "MANY_TO_ONE", transportPreference: "PREFER_NETWORK", durability: "DURABLE", createdById: tenant.owner.userId });
  });

  it("audits creation with the full model as `after`", async () => {
    const f = await createSharedFile(ctx, fileBody(uniqueName("a")));
    const event = await db.auditEvent.findFirstOrThrow({ where: { action: "file.created", targetId: f.id } });
    expect(event).toMatchObject({ tenantId: tenant.tenantId, actorType: "USER", actorId: tenant.owner.userId, outcome: "SUCCESS", before: null });
    expect(event.after).toMatchObject({ name: f.name, kind: "variables", revision: 1, layout: f.layout });
  });

  it("returns field errors for invalid input and stores nothing", async () => {
    const name = uniqueName("bad");
    const err = await failureOf(createSharedFile(ctx, { ...fileBody(name), pattern: "queue", maxSizeBytes: 10 }));
    expect(err.code).toBe("VALIDATION_FAILED");
    expect(err.fields?.maxSizeBytes).toBeDefined();
    expect(await db.sharedFile.count({ where: { tenantId: tenant.tenantId, name } })).toBe(0);
  });

  it("keeps names unique per tenant (CONFLICT with a field error), not across tenants", async () => {
    const name = uniqueName("dup");
    await createSharedFile(ctx, fileBody(name));
    const err = await failureOf(createSharedFile(ctx, fileBody(name)));
    expect(err).toMatchObject({ code: "CONFLICT", fields: { name: [expect.stringContaining("already exists")] } });
    const other = await createTestTenant();
    await expect(createSharedFile(other.owner.ctx, fileBody(name))).resolves.toMatchObject({ name });
  });

  it("is NOT_FOUND for a name that does not exist", async () => {
    expect((await failureOf(getSharedFile(ctx, "no-such-file"))).code).toBe("NOT_FOUND");
  });
});

describe("list", () => {
  it("pages by name with a cursor and never repeats or skips", async () => {
    const t = await createTestTenant();
    const names = ["a", "a.b", "a_b", "a-b", "b", "c0", "c1", "zz"];
    for (const n of names) await createSharedFile(t.owner.ctx, fileBody(n));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await listSharedFiles(t.owner.ctx, { limit: 3, cursor });
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((f) => f.name));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect([...seen].sort()).toEqual([...names].sort());
    expect(new Set(seen).size).toBe(names.length);
  });

  it("lists each file exactly as it reads it alone (timestamps included)", async () => {
    const t = await createTestTenant();
    for (const n of ["one", "two"]) await createSharedFile(t.owner.ctx, fileBody(n));
    await updateSharedFile(t.owner.ctx, "two", { revision: 1, description: "changed" });
    const listed = (await listSharedFiles(t.owner.ctx, { limit: 10 })).items;
    expect(listed).toEqual([await getSharedFile(t.owner.ctx, "one"), await getSharedFile(t.owner.ctx, "two")]);
    for (const f of listed) expect(f.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it("never lists a file stale when it was changed outside the service: the list renders it from its columns and stores that", async () => {
    const t = await createTestTenant();
    for (const n of ["p", "q", "r"]) await createSharedFile(t.owner.ctx, fileBody(n));
    const stored = async (name: string) =>
      (await db.$queryRaw<{ apiJson: string | null }[]>`SELECT "apiJson" FROM "SharedFile" WHERE "tenantId" = ${t.tenantId} AND "name" = ${name}`)[0]!.apiJson;
    expect(JSON.parse((await stored("q"))!)).toEqual(await getSharedFile(t.owner.ctx, "q"));

    // Another writer (a migration, an operator's SQL) changes q; r loses its stored form.
    await db.$executeRaw`UPDATE "SharedFile" SET "description" = 'changed by SQL', "maxConnections" = 7 WHERE "tenantId" = ${t.tenantId} AND "name" = 'q'`;
    await db.$executeRaw`UPDATE "SharedFile" SET "apiJson" = NULL WHERE "tenantId" = ${t.tenantId} AND "name" = 'r'`;
    expect(await stored("q")).toBeNull(); // the trigger cleared it

    const page = await listSharedFilesJson(t.owner.ctx, { limit: 10 });
    const files = await Promise.all(["p", "q", "r"].map((n) => getSharedFile(t.owner.ctx, n)));
    expect(files[1]).toMatchObject({ description: "changed by SQL", maxConnections: 7 });
    expect(JSON.parse(sharedFilePageJson(page))).toEqual({ items: files, nextCursor: null });
    // Rendered once, then stored: the next list sends the stored text.
    expect(JSON.parse((await stored("q"))!)).toEqual(files[1]);
    expect(JSON.parse((await stored("r"))!)).toEqual(files[2]);
    expect((await listSharedFiles(t.owner.ctx, { limit: 10 })).items).toEqual(files);
  });

  it("rejects a forged cursor with a field error", async () => {
    expect((await failureOf(listSharedFiles(ctx, { limit: 5, cursor: "!!" }))).fields?.cursor).toBeDefined();
  });

  it("shows only the caller's tenant", async () => {
    const a = await createTestTenant();
    const b = await createTestTenant();
    await createSharedFile(a.owner.ctx, fileBody("mine"));
    await createSharedFile(b.owner.ctx, fileBody("theirs"));
    expect((await listSharedFiles(a.owner.ctx, { limit: 100 })).items.map((f) => f.name)).toEqual(["mine"]);
  });
});

describe("update", () => {
  it("applies a partial change, bumps the revision and audits before/after", async () => {
    const f = await createSharedFile(ctx, fileBody(uniqueName("u")));
    const updated = await updateSharedFile(ctx, f.name, { revision: 1, description: "changed", performance: { maxLatencyMicros: 100 } });
    expect(updated).toMatchObject({ revision: 2, description: "changed", performance: { ...f.performance, maxLatencyMicros: 100 }, layout: f.layout });
    const event = await db.auditEvent.findFirstOrThrow({ where: { action: "file.updated", targetId: f.id } });
    expect(event.before).toMatchObject({ description: "", revision: 1 });
    expect(event.after).toMatchObject({ description: "changed", revision: 2 });
  });

  it("refuses a stale revision with CONFLICT naming the current one, changing nothing", async () => {
    const f = await createSharedFile(ctx, fileBody(uniqueName("stale")));
    await updateSharedFile(ctx, f.name, { revision: 1, description: "first" });
    const err = await failureOf(updateSharedFile(ctx, f.name, { revision: 1, description: "second" }));
    expect(err.code).toBe("CONFLICT");
    expect(err.fields?.revision?.[0]).toContain("2");
    expect((await getSharedFile(ctx, f.name)).description).toBe("first");
  });

  it("lets exactly one of several concurrent editors of the same revision win", async () => {
    const f = await createSharedFile(ctx, fileBody(uniqueName("race")));
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => updateSharedFile(ctx, f.name, { revision: 1, description: `editor ${i}` })),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(won).toHaveLength(1);
    for (const r of lost) expect(r.reason).toMatchObject({ code: "CONFLICT" });
    const final = await getSharedFile(ctx, f.name);
    expect(final.revision).toBe(2);
    expect(await db.auditEvent.count({ where: { action: "file.updated", targetId: f.id } })).toBe(1);
  });

  it("validates the merged result with the cross-field rules", async () => {
    const f = await createSharedFile(ctx, fileBody(uniqueName("rules")));
    const err = await failureOf(updateSharedFile(ctx, f.name, { revision: 1, pattern: "publish-subscribe" }));
    expect(err).toMatchObject({ code: "VALIDATION_FAILED", fields: { pattern: [expect.stringContaining("stream")] } });
    const tooSmall = await failureOf(
      updateSharedFile(ctx, f.name, { revision: 1, layout: { type: "variables", slots: [{ name: "big", maxSize: 8 << 20 }] } }),
    );
    expect(tooSmall.fields?.maxSizeBytes).toBeDefined();
    expect((await getSharedFile(ctx, f.name)).revision).toBe(1);
  });

  it("explains that name and kind cannot change", async () => {
    const f = await createSharedFile(ctx, fileBody(uniqueName("imm")));
    const err = await failureOf(updateSharedFile(ctx, f.name, { revision: 1, name: "other", kind: "stream" }));
    expect(Object.keys(err.fields ?? {}).sort()).toEqual(["kind", "name"]);
  });

  it("archives and re-activates", async () => {
    const f = await createSharedFile(ctx, fileBody(uniqueName("arch")));
    expect((await updateSharedFile(ctx, f.name, { revision: 1, status: "archived" })).status).toBe("archived");
    expect((await updateSharedFile(ctx, f.name, { revision: 2, status: "active" })).status).toBe("active");
  });
});

describe("delete", () => {
  it("deletes, audits the last state as `before`, and the name is free again", async () => {
    const f = await createSharedFile(ctx, fileBody(uniqueName("del")));
    await deleteSharedFile(ctx, f.name);
    expect((await failureOf(getSharedFile(ctx, f.name))).code).toBe("NOT_FOUND");
    const event = await db.auditEvent.findFirstOrThrow({ where: { action: "file.deleted", targetId: f.id } });
    expect(event.before).toMatchObject({ name: f.name, revision: 1 });
    await expect(createSharedFile(ctx, fileBody(f.name))).resolves.toMatchObject({ revision: 1 });
  });

  it("with a stale revision, deletes nothing", async () => {
    const f = await createSharedFile(ctx, fileBody(uniqueName("del2")));
    await updateSharedFile(ctx, f.name, { revision: 1, description: "x" });
    expect((await failureOf(deleteSharedFile(ctx, f.name, { revision: 1 }))).code).toBe("CONFLICT");
    await expect(deleteSharedFile(ctx, f.name, { revision: 2 })).resolves.toMatchObject({ name: f.name });
  });
});

describe("roles", () => {
  it("follows the matrix: viewers read, operators create and update but not delete", async () => {
    const viewer = await addMember(tenant.tenantId, "VIEWER");
    const operator = await addMember(tenant.tenantId, "OPERATOR");
    const name = uniqueName("roles");
    expect((await failureOf(createSharedFile(viewer.ctx, fileBody(name)))).code).toBe("FORBIDDEN");
    await createSharedFile(operator.ctx, fileBody(name));
    await expect(getSharedFile(viewer.ctx, name)).resolves.toBeDefined();
    await expect(updateSharedFile(operator.ctx, name, { revision: 1, description: "op" })).resolves.toBeDefined();
    expect((await failureOf(deleteSharedFile(operator.ctx, name))).code).toBe("FORBIDDEN");
  });
});
