/**
 * The OpenAPI document: served at /api/v1/openapi.json, OpenAPI 3.1, a path for every REST
 * route with its method, parameters, bearer security and error responses, components generated
 * from the same zod schemas (every field of the request model present), and no dangling $ref.
 */
import { afterAll, describe, expect, it } from "vitest";
import * as openapiRoute from "~/app/api/v1/openapi.json/route";
import * as pingRoute from "~/app/api/v1/ping/route";
import { db } from "~/server/db";
import { REST_ROUTES } from "~/server/rest/routes";

afterAll(async () => {
  await db.$disconnect();
});

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { security?: unknown[]; parameters?: { name: string; in: string; required?: boolean }[]; requestBody?: unknown; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }>; securitySchemes: Record<string, { type: string; scheme: string }> };
}

async function fetchDoc(): Promise<{ res: Response; doc: Doc }> {
  const res = openapiRoute.GET(new Request("http://localhost/api/v1/openapi.json"));
  return { res, doc: (await res.clone().json()) as Doc };
}

describe("OpenAPI document", () => {
  it("is served as OpenAPI 3.1 JSON without authentication", async () => {
    const { res, doc } = await fetchDoc();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it.each(REST_ROUTES.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))("documents %s", async (_n, route) => {
    const { doc } = await fetchDoc();
    const op = doc.paths[route.path]?.[route.method];
    expect(op, `${route.method} ${route.path}`).toBeDefined();
    expect(op!.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(op!.responses)).toEqual(expect.arrayContaining([String(route.success.status), "400", "401", "403", "404", "429"]));
    expect(op!.responses["401"]!.content!["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/Error" });
    for (const m of route.path.matchAll(/\{(\w+)\}/g)) {
      expect(op!.parameters?.find((p) => p.in === "path" && p.name === m[1])?.required).toBe(true);
    }
    if (route.method === "post" || route.method === "patch") {
      expect(op!.requestBody).toBeDefined();
      expect(op!.responses["413"]).toBeDefined();
    }
  });

  it("documents query parameters from the zod schemas (cursor pagination)", async () => {
    const { doc } = await fetchDoc();
    const params = doc.paths["/files"]!.get!.parameters!.map((p) => `${p.in}:${p.name}`);
    expect(params).toEqual(expect.arrayContaining(["query:cursor", "query:limit"]));
  });

  it("has components generated from the contracts, with every field of the request model", async () => {
    const { doc } = await fetchDoc();
    const file = doc.components.schemas.SharedFile!;
    for (const field of [
      "name", "kind", "pattern", "topology", "directionality", "serialization", "maxSizeBytes", "ttlSeconds", "maxConnections",
      "creationPolicy", "existencePolicy", "autoCleanup", "persistAfterDisconnect", "requiredPermissions", "transportPreference",
      "performance", "layout", "revision", "status",
    ]) {
      expect(file.properties, field).toHaveProperty(field);
    }
    expect(doc.components.schemas.SharedFileCreate?.required?.sort()).toEqual(["kind", "layout", "name"]);
    expect(doc.components.schemas.Error?.properties).toHaveProperty("error");
    // The page of files refers to the component instead of inlining a copy.
    expect(JSON.stringify(doc.paths["/files"]!.get!.responses["200"])).toContain("#/components/schemas/SharedFile");
  });

  it("has no dangling $ref", async () => {
    const { doc } = await fetchDoc();
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/(\w+)\/([^"]+)"/g)];
    expect(refs.length).toBeGreaterThan(10);
    for (const [, kind, name] of refs) expect((doc.components as Record<string, Record<string, unknown>>)[kind!]?.[name!], `${kind}/${name}`).toBeDefined();
  });
});

describe("ping", () => {
  it("answers without authentication or database", async () => {
    const res = pingRoute.GET();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });
});
