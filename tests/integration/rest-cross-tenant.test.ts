/**
 * Cross-tenant "cannot access" suite (documenso's unauthorized-api-access): tenant A's
 * credentials — an API key holding every scope, and A's owner signed in — aimed at tenant B
 * through every REST route and every tenant-scoped tRPC procedure. Each answer is 404 /
 * NOT_FOUND (never 403, which would confirm B exists) and carries none of B's data; B is
 * unchanged afterwards.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fileRoute from "~/app/api/v1/files/[name]/route";
import * as filesRoute from "~/app/api/v1/files/route";
import { appRouter, createCaller } from "~/server/api/root";
import { createInnerTRPCContext } from "~/server/api/trpc";
import { API_KEY_SCOPES } from "~/server/auth/permissions";
import { db } from "~/server/db";
import type { AnyRouteDef } from "~/server/rest/handler";
import { REST_ROUTES } from "~/server/rest/routes";
import { authenticateApiKey } from "~/server/services/api-keys";
import { createSharedFile } from "~/server/services/shared-files";
import { uniqueName } from "../helpers/unique";
import { createTestKey, createTestTenant, fileBody, restRequest, routeParams, uniqueIp, type Caller, type TestTenant } from "./control-plane-fixtures";

type Handler = (req: Request, ctx?: { params: Promise<Record<string, string>> }) => Promise<Response>;

let a: TestTenant;
let b: TestTenant;
let aKey: string;
let bFile: { id: string; name: string; revision: number };
let bNodeName: string;
/** Strings that must never appear in an answer given to tenant A. */
let bSecrets: string[];

beforeAll(async () => {
  [a, b] = [await createTestTenant(), await createTestTenant()];
  aKey = (await createTestKey(a.owner, API_KEY_SCOPES)).raw;
  await createSharedFile(a.owner.ctx, fileBody("a-file"));
  const f = await createSharedFile(b.owner.ctx, { ...fileBody(uniqueName("b-secret")), description: "tenant B only" });
  bFile = { id: f.id, name: f.name, revision: f.revision };
  bNodeName = uniqueName("b-node");
  await db.node.create({ data: { tenantId: b.tenantId, name: bNodeName, hostname: "b.local", version: "1", credentialHash: randomBytes(32).toString("hex") } });
  const bOwner = await db.user.findUniqueOrThrow({ where: { id: b.owner.userId } });
  bSecrets = [b.tenantId, b.slug, bFile.id, bFile.name, bNodeName, bOwner.email!, "tenant B only"];
});
afterAll(async () => {
  await db.$disconnect();
});

async function handlerOf(route: AnyRouteDef): Promise<Handler> {
  const dir = route.path.replace(/\{(\w+)\}/g, "[$1]");
  const mod = (await import(/* @vite-ignore */ `${process.cwd()}/src/app/api/v1${dir}/route.ts`)) as Record<string, Handler>;
  return mod[route.method.toUpperCase()]!;
}

/** A request for `route` aimed at B's resources where the route names one. */
function requestAtB(route: AnyRouteDef, caller: Caller): { req: Request; params?: { params: Promise<Record<string, string>> } } {
  const path = route.path.replace("{name}", bFile.name).replace("{slot}", "value");
  const params = route.path.includes("{name}") ? routeParams(route.path.includes("{slot}") ? { name: bFile.name, slot: "value" } : { name: bFile.name }) : undefined;
  const query = route.path === "/audit/export" ? "?format=jsonl" : route.path === "/events" ? "?follow=false&backlog=50" : "";
  const body =
    route.method === "post"
      ? route.path === "/files"
        ? fileBody(uniqueName("intruder"))
        : { value: "intruder" }
      : route.method === "patch"
        ? { revision: bFile.revision, description: "hacked" }
        : undefined;
  return { req: restRequest(route.method.toUpperCase(), path + query, caller, body), params };
}

/** `echoed`: strings the caller itself sent (an error may repeat the name asked for). */
function expectNoBData(text: string, echoed: string[] = []): void {
  for (const s of bSecrets) if (!echoed.includes(s)) expect(text).not.toContain(s);
}

describe("REST: tenant A's credentials against tenant B", () => {
  it.each(REST_ROUTES.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))("%s with A's key naming B in X-Commy-Tenant → 404", async (_n, route) => {
    const { req, params } = requestAtB(route, { key: aKey, tenant: b.tenantId });
    const res = await (await handlerOf(route))(req, params);
    const text = await res.text();
    expect(res.status, text).toBe(404);
    expect(JSON.parse(text).error.code).toBe("NOT_FOUND");
    expectNoBData(text);
  });

  it.each(REST_ROUTES.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))("%s with A's owner session naming B → 404", async (_n, route) => {
    const { req, params } = requestAtB(route, { sessionToken: a.owner.sessionToken, tenant: b.tenantId });
    const res = await (await handlerOf(route))(req, params);
    const text = await res.text();
    expect(res.status, text).toBe(404);
    expectNoBData(text);
  });

  it.each(REST_ROUTES.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))("%s with A's key in its own tenant shows nothing of B", async (_n, route) => {
    const { req, params } = requestAtB(route, { key: aKey });
    const res = await (await handlerOf(route))(req, params);
    const text = await res.text();
    // B's file name, used in A's tenant, names nothing there.
    if (route.path.includes("{name}")) expect(res.status, text).toBe(404);
    else expect(res.status, text).toBeLessThan(300);
    expectNoBData(text, [bFile.name]);
  });

  it("left B's file untouched", async () => {
    const row = await db.sharedFile.findUniqueOrThrow({ where: { id: bFile.id } });
    expect(row).toMatchObject({ tenantId: b.tenantId, revision: bFile.revision, description: "tenant B only" });
    expect(await db.sharedFile.count({ where: { tenantId: b.tenantId } })).toBe(1);
  });

  it("treats B's file name in A's tenant the same as a missing file", async () => {
    const missing = await fileRoute.GET(restRequest("GET", "/files/does-not-exist", { key: aKey }), routeParams({ name: "does-not-exist" }));
    const bs = await fileRoute.GET(restRequest("GET", `/files/${bFile.name}`, { key: aKey }), routeParams({ name: bFile.name }));
    expect(bs.status).toBe(missing.status);
    expect(((await bs.json()) as { error: { code: string } }).error.code).toBe(((await missing.json()) as { error: { code: string } }).error.code);
    const list = (await (await filesRoute.GET(restRequest("GET", "/files", { key: aKey }))).json()) as { items: { name: string }[] };
    expect(list.items.map((f) => f.name)).toContain("a-file");
    expect(list.items.map((f) => f.name)).not.toContain(bFile.name);
  });
});

describe("tRPC: tenant A's credentials against tenant B", () => {
  type Proc = { _def: { type: string; meta?: { tier?: string; userOnly?: boolean } } };
  /** Every tenant-scoped procedure of the app router, read from its `meta` (no hand-kept list). */
  const procedures = () =>
    Object.entries((appRouter as unknown as { _def: { procedures: Record<string, Proc> } })._def.procedures).filter(([, p]) => p._def.meta?.tier === "tenant");

  it("has tenant-scoped procedures to test", () => {
    expect(procedures().length).toBeGreaterThan(10);
  });

  for (const who of ["API key", "owner session"] as const) {
    it(`every tenant procedure answers NOT_FOUND for ${who} of A with tenantId of B`, async () => {
      const actor = who === "API key" ? (await authenticateApiKey(aKey, { requestId: uniqueName("r"), ip: uniqueIp() })).actor : a.owner.ctx.actor;
      const caller = createCaller(createInnerTRPCContext({ actor: actor as never, meta: { requestId: uniqueName("r"), ip: uniqueIp(), userAgent: "vitest" } }));
      for (const [path, proc] of procedures()) {
        const fn = path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], caller) as (input: unknown) => Promise<unknown>;
        const err = await fn({ tenantId: b.tenantId }).then(
          (r) => ({ code: "RESOLVED", r }),
          (e: { code?: string; message?: string }) => e,
        );
        const allowedCodes = proc._def.meta?.userOnly && who === "API key" ? ["NOT_FOUND", "FORBIDDEN"] : ["NOT_FOUND"];
        expect(allowedCodes, `${path}: ${JSON.stringify(err).slice(0, 200)}`).toContain(err.code);
        expectNoBData(JSON.stringify(err));
      }
    });
  }

  it("the same key works in its own tenant through tRPC (and sees only A)", async () => {
    const { actor } = await authenticateApiKey(aKey, { requestId: uniqueName("r"), ip: uniqueIp() });
    const caller = createCaller(createInnerTRPCContext({ actor, meta: { requestId: uniqueName("r"), ip: uniqueIp(), userAgent: "vitest" } }));
    const page = await caller.sharedFile.list({ tenantId: a.tenantId, limit: 50 });
    expect(page.items.map((f) => f.name)).toContain("a-file");
    expectNoBData(JSON.stringify(page));
    await expect(caller.sharedFile.get({ tenantId: a.tenantId, name: bFile.name })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
