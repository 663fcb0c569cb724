/**
 * REST authorization matrix: every /api/v1 route × every API-key scope (alone) and every role
 * (session cookie + X-Commy-Tenant), called through the route handlers' exported functions with
 * real `Request` objects. Allowed exactly when the permission matrix says so: allowed calls get
 * the route's success status, denied ones 403 FORBIDDEN naming the permission.
 *
 * Also checks that the route files under src/app/api/v1 and the declarations in REST_ROUTES are
 * the same set, so a new route cannot escape this matrix.
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as auditExportRoute from "~/app/api/v1/audit/export/route";
import * as auditRoute from "~/app/api/v1/audit/route";
import * as fileRoute from "~/app/api/v1/files/[name]/route";
import * as filesRoute from "~/app/api/v1/files/route";
import * as membersRoute from "~/app/api/v1/members/route";
import * as nodesRoute from "~/app/api/v1/nodes/route";
import * as tenantRoute from "~/app/api/v1/tenant/route";
import * as eventsRoute from "~/app/api/v1/events/route";
import * as deadLettersRoute from "~/app/api/v1/files/[name]/dead-letters/route";
import * as messagesRoute from "~/app/api/v1/files/[name]/messages/route";
import * as fileRoutesRoute from "~/app/api/v1/files/[name]/routes/route";
import * as variableRoute from "~/app/api/v1/files/[name]/variables/[slot]/route";
import { API_KEY_SCOPES, ROLES, can, scopesAllow, type ApiKeyScope, type Role } from "~/server/auth/permissions";
import { db } from "~/server/db";
import type { AnyRouteDef } from "~/server/rest/handler";
import { REST_ROUTES } from "~/server/rest/routes";
import { createSharedFile } from "~/server/services/shared-files";
import { uniqueName } from "../helpers/unique";
import { addMember, createTestKey, createTestTenant, fileBody, restRequest, routeParams, type Caller, type TestMember, type TestTenant } from "./control-plane-fixtures";

type Handler = (req: Request, ctx?: { params: Promise<Record<string, string>> }) => Promise<Response>;

/** `method path` → the exported handler. */
const HANDLERS: Record<string, Handler> = {
  "get /tenant": tenantRoute.GET,
  "get /members": membersRoute.GET,
  "get /files": filesRoute.GET,
  "post /files": filesRoute.POST,
  "get /files/{name}": fileRoute.GET,
  "patch /files/{name}": fileRoute.PATCH,
  "delete /files/{name}": fileRoute.DELETE,
  "get /nodes": nodesRoute.GET,
  "get /audit": auditRoute.GET,
  "get /audit/export": auditExportRoute.GET,
  "get /files/{name}/routes": fileRoutesRoute.GET,
  "get /files/{name}/variables/{slot}": variableRoute.GET,
  "post /files/{name}/variables/{slot}": variableRoute.POST,
  "post /files/{name}/messages": messagesRoute.POST,
  "get /files/{name}/messages": messagesRoute.GET,
  "get /files/{name}/dead-letters": deadLettersRoute.GET,
  "get /events": eventsRoute.GET,
};
const PUBLIC_ROUTES = new Set(["get /ping", "get /openapi.json"]);
const routeKey = (r: AnyRouteDef) => `${r.method} ${r.path}`;

let tenant: TestTenant;

/**
 * A request that succeeds for a caller who is allowed: mutations get a fresh file of their own
 * (created by the owner), so the matrix cells do not depend on each other.
 */
async function requestFor(route: AnyRouteDef, caller: Caller): Promise<{ req: Request; params?: { params: Promise<Record<string, string>> } }> {
  const fresh = async () => (await createSharedFile(tenant.owner.ctx, fileBody(uniqueName("m")))).name;
  switch (routeKey(route)) {
    case "get /tenant":
      return { req: restRequest("GET", "/tenant", caller) };
    case "get /members":
      return { req: restRequest("GET", "/members?limit=5", caller) };
    case "get /files":
      return { req: restRequest("GET", "/files?limit=5", caller) };
    case "post /files":
      return { req: restRequest("POST", "/files", caller, fileBody(uniqueName("m"))) };
    case "get /files/{name}": {
      const name = await fresh();
      return { req: restRequest("GET", `/files/${name}`, caller), params: routeParams({ name }) };
    }
    case "patch /files/{name}": {
      const name = await fresh();
      return { req: restRequest("PATCH", `/files/${name}`, caller, { revision: 1, description: "matrix" }), params: routeParams({ name }) };
    }
    case "delete /files/{name}": {
      const name = await fresh();
      return { req: restRequest("DELETE", `/files/${name}`, caller), params: routeParams({ name }) };
    }
    case "get /nodes":
      return { req: restRequest("GET", "/nodes", caller) };
    case "get /audit":
      return { req: restRequest("GET", "/audit?limit=5", caller) };
    case "get /audit/export":
      return { req: restRequest("GET", "/audit/export?format=jsonl&action=file.", caller) };
    case "get /files/{name}/routes": {
      const name = await fresh();
      return { req: restRequest("GET", `/files/${name}/routes`, caller), params: routeParams({ name }) };
    }
    case "get /files/{name}/variables/{slot}": {
      const name = await fresh();
      return { req: restRequest("GET", `/files/${name}/variables/value`, caller), params: routeParams({ name, slot: "value" }) };
    }
    case "post /files/{name}/variables/{slot}": {
      const name = await fresh();
      return { req: restRequest("POST", `/files/${name}/variables/value`, caller, { value: 7 }), params: routeParams({ name, slot: "value" }) };
    }
    case "post /files/{name}/messages": {
      const name = uniqueName("ms");
      await createSharedFile(tenant.owner.ctx, { name, kind: "stream", layout: { type: "stream", messageMaxSize: 128, capacity: 16 } });
      return { req: restRequest("POST", `/files/${name}/messages`, caller, { value: "hello" }), params: routeParams({ name }) };
    }
    case "get /files/{name}/messages": {
      const name = await fresh();
      return { req: restRequest("GET", `/files/${name}/messages?limit=5`, caller), params: routeParams({ name }) };
    }
    case "get /files/{name}/dead-letters": {
      const name = await fresh();
      return { req: restRequest("GET", `/files/${name}/dead-letters`, caller), params: routeParams({ name }) };
    }
    case "get /events":
      return { req: restRequest("GET", "/events?follow=false&backlog=2", caller) };
    default:
      throw new Error(`no request builder for ${routeKey(route)}: add one to the REST matrix`);
  }
}

async function expectOutcome(route: AnyRouteDef, caller: Caller, allowed: boolean, who: string): Promise<void> {
  const { req, params } = await requestFor(route, caller);
  const res = await HANDLERS[routeKey(route)]!(req, params);
  const text = await res.text();
  if (allowed) {
    expect(res.status, `${who} → ${routeKey(route)}: ${text.slice(0, 300)}`).toBe(route.success.status);
  } else {
    expect(res.status, `${who} → ${routeKey(route)}: ${text.slice(0, 300)}`).toBe(403);
    const body = JSON.parse(text) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("FORBIDDEN");
    expect(body.error.message).toContain(route.permission);
  }
}

const keys = new Map<ApiKeyScope, string>();
const members = new Map<Role, TestMember>();

beforeAll(async () => {
  tenant = await createTestTenant();
  for (const scope of API_KEY_SCOPES) keys.set(scope, (await createTestKey(tenant.owner, [scope])).raw);
  members.set("OWNER", tenant.owner);
  for (const role of ROLES.filter((r) => r !== "OWNER")) members.set(role, await addMember(tenant.tenantId, role));
});
afterAll(async () => {
  await db.$disconnect();
});

describe("REST routes and declarations", () => {
  it("has a route file for every declared route, and no undeclared authenticated route", async () => {
    const root = path.join(process.cwd(), "src/app/api/v1");
    const found = new Set<string>();
    const walk = async (dir: string): Promise<void> => {
      for (const entry of readdirSync(dir)) {
        const full = path.join(dir, entry);
        if (statSync(full).isDirectory()) await walk(full);
        else if (entry === "route.ts") {
          const apiPath = "/" + path.relative(root, dir).split(path.sep).map((s) => s.replace(/^\[(.+)\]$/, "{$1}")).join("/");
          const mod = (await import(/* @vite-ignore */ full)) as Record<string, unknown>;
          for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) if (typeof mod[method] === "function") found.add(`${method.toLowerCase()} ${apiPath}`);
        }
      }
    };
    await walk(root);
    const declared = new Set(REST_ROUTES.map(routeKey));
    expect([...found].filter((k) => !PUBLIC_ROUTES.has(k)).sort()).toEqual([...declared].sort());
    expect(Object.keys(HANDLERS).sort()).toEqual([...declared].sort());
  });
});

describe.each(REST_ROUTES.map((r) => [routeKey(r), r] as const))("%s", (_name, route) => {
  it.each(API_KEY_SCOPES.map((s) => [s]))("API key with scope %s", async (scope) => {
    await expectOutcome(route, { key: keys.get(scope)! }, scopesAllow([scope], route.permission), `key[${scope}]`);
  });

  it.each(ROLES.map((r) => [r]))("signed-in %s", async (role) => {
    const member = members.get(role)!;
    await expectOutcome(route, { sessionToken: member.sessionToken, tenant: tenant.tenantId }, can(role, route.permission), role);
  });
});

describe("sessions", () => {
  it("must name the tenant (X-Commy-Tenant) and be a member of it", async () => {
    const owner = members.get("OWNER")!;
    const missing = await filesRoute.GET(restRequest("GET", "/files", { sessionToken: owner.sessionToken }));
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain("X-Commy-Tenant");
    const expired = await db.session.create({ data: { sessionToken: uniqueName("expired"), userId: owner.userId, expires: new Date(Date.now() - 1000) } });
    expect((await filesRoute.GET(restRequest("GET", "/files", { sessionToken: expired.sessionToken, tenant: tenant.tenantId }))).status).toBe(401);
  });
});
