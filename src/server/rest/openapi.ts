/**
 * The OpenAPI 3.1 document of /api/v1, generated with @asteasolutions/zod-to-openapi from the
 * SAME zod schemas the handlers validate with and the same route declarations (`REST_ROUTES`),
 * so the document cannot drift from the behaviour.
 *
 * Component names are given here (`registry.register`) rather than inside the contracts, so the
 * contracts stay plain zod that the UI and the worker import without this library.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31, zodToOpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { ZApiKey } from "~/server/contracts/api-key";
import { ZErrorEnvelope } from "~/server/contracts/common";
import { ZNode } from "~/server/contracts/node";
import { ZLayout, ZPerformance, ZSharedFile, ZSharedFileCreate, ZSharedFilePatch, ZStreamLayout, ZVariablesLayout } from "~/server/contracts/shared-file";
import { APP_ERROR_CODES } from "~/server/errors";
import { MAX_BODY_BYTES } from "./body";
import type { AnyRouteDef } from "./handler";
import { jsonResponse } from "./http";
import { REST_ROUTES, ZAuditEventJson, ZMemberJson, ZTenantJson } from "./routes";

const BASE_PATH = "/api/v1";

/** Error statuses any authenticated route can answer, with what they mean. */
const COMMON_ERRORS: Record<number, string> = {
  400: "Invalid input: `error.fields` maps each bad field to its messages (VALIDATION_FAILED), or a malformed request (BAD_REQUEST).",
  401: "No, malformed, unknown, revoked (API_KEY_REVOKED) or expired (API_KEY_EXPIRED) API key.",
  403: "The key's scopes (or the user's role) do not include the permission this route needs; the message names it.",
  404: "Not found — also what another tenant's resources look like.",
  429: "Too many failed authentications from this address; see Retry-After.",
};
const BODY_ERRORS: Record<number, string> = {
  409: "CONFLICT: the name is taken, or `revision` is stale (someone else changed the file).",
  413: `PAYLOAD_TOO_LARGE: the body exceeds ${MAX_BODY_BYTES} bytes.`,
};

/** Named components, referenced by $ref wherever these exact schema instances appear. */
const COMPONENTS: Record<string, z.ZodType> = {
  Error: ZErrorEnvelope,
  SharedFile: ZSharedFile,
  SharedFileCreate: ZSharedFileCreate,
  SharedFilePatch: ZSharedFilePatch,
  Layout: ZLayout,
  VariablesLayout: ZVariablesLayout,
  StreamLayout: ZStreamLayout,
  Performance: ZPerformance,
  Node: ZNode,
  Tenant: ZTenantJson,
  Member: ZMemberJson,
  AuditEvent: ZAuditEventJson,
  ApiKey: ZApiKey,
};

/**
 * Gives `schema` itself (not a copy, as `registry.register` would make) a component name in the
 * library's metadata registry, so every place that nests the shared instance — `ZPage(ZSharedFile)`,
 * the layout inside the file — becomes a `$ref` instead of an inlined copy. Keeps the other
 * metadata (descriptions from `.meta()`).
 */
function nameComponent(refId: string, schema: z.ZodType): void {
  const existing = zodToOpenAPIRegistry.get(schema) as { _internal?: Record<string, unknown> } | undefined;
  zodToOpenAPIRegistry.add(schema, { ...existing, _internal: { ...existing?._internal, refId } });
}

function errorResponses(route: AnyRouteDef): Record<string, { description: string; content: { "application/json": { schema: z.ZodType } } }> {
  const out: Record<string, { description: string; content: { "application/json": { schema: z.ZodType } } }> = {};
  const statuses = { ...COMMON_ERRORS, ...(route.method === "get" ? {} : BODY_ERRORS) };
  if (route.method === "delete") statuses[409] = "CONFLICT: `revision` given and stale.";
  for (const [status, description] of Object.entries(statuses)) {
    out[status] = { description, content: { "application/json": { schema: ZErrorEnvelope } } };
  }
  return out;
}

function register(registry: OpenAPIRegistry, route: AnyRouteDef): void {
  const success =
    route.success.status === 204
      ? { description: route.success.description }
      : route.success.schema
        ? { description: route.success.description, content: { "application/json": { schema: route.success.schema } } }
        : {
            description: route.success.description,
            content: Object.fromEntries((route.success.contentTypes ?? ["application/octet-stream"]).map((t) => [t, { schema: z.string() }])),
          };
  registry.registerPath({
    method: route.method,
    path: route.path,
    summary: route.summary,
    description: `${route.description ? `${route.description}\n\n` : ""}Requires permission \`${route.permission}\`.`,
    tags: [route.tag],
    security: [{ bearerAuth: [] }],
    request: {
      ...(route.params ? { params: route.params } : {}),
      ...(route.query ? { query: route.query } : {}),
      ...(route.body ? { body: { required: true, content: { "application/json": { schema: route.body } } } } : {}),
    },
    responses: { [route.success.status]: success, ...errorResponses(route) },
  });
}

/** Builds the document (pure; cached by `openApiDocument`). */
export function buildOpenApiDocument(): ReturnType<OpenApiGeneratorV31["generateDocument"]> {
  const registry = new OpenAPIRegistry();
  registry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "cmy_<prefix>_<secret>",
    description: "An API key created in the control plane (Settings → API keys), sent as `Authorization: Bearer cmy_…`.",
  });
  for (const route of REST_ROUTES) register(registry, route);
  registry.registerPath({
    method: "get",
    path: "/ping",
    summary: "Liveness baseline: no authentication, no database",
    tags: ["Meta"],
    responses: { 200: { description: "Alive.", content: { "application/json": { schema: z.object({ ok: z.literal(true) }) } } } },
  });
  registry.registerPath({
    method: "get",
    path: "/openapi.json",
    summary: "This document",
    tags: ["Meta"],
    responses: { 200: { description: "OpenAPI 3.1 document.", content: { "application/json": { schema: z.object({}).passthrough() } } } },
  });

  const codes = Object.keys(APP_ERROR_CODES).join(", ");
  const components = Object.entries(COMPONENTS).map(([refId, schema]) => {
    nameComponent(refId, schema);
    return { type: "schema" as const, schema };
  });
  return new OpenApiGeneratorV31([...components, ...registry.definitions]).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "Commy control plane API",
      version: "1.0.0",
      description:
        "Tenants, members, shared files, nodes and the audit log of Commy. Authenticate with an API key: `Authorization: Bearer cmy_…`. " +
        "Signed-in browser sessions may call it too, naming the tenant in `X-Commy-Tenant`.\n\n" +
        `Errors are always \`{ "error": { "code", "message", "fields"?, "requestId" } }\`; codes: ${codes}. ` +
        `Lists use cursor pagination (\`?cursor=&limit=\`, \`nextCursor\` in the answer). Request bodies are limited to ${MAX_BODY_BYTES} bytes.`,
    },
    servers: [{ url: BASE_PATH }],
    security: [{ bearerAuth: [] }],
  });
}

let cached: ReturnType<typeof buildOpenApiDocument> | null = null;

/** The document, built once per process (it depends only on code). */
export function openApiDocument(): ReturnType<typeof buildOpenApiDocument> {
  cached ??= buildOpenApiDocument();
  return cached;
}

/** The route handler's response (public, cacheable for a few minutes). */
export function openApiResponse(req: Request): Response {
  const requestId = req.headers.get("x-request-id")?.slice(0, 128) || crypto.randomUUID();
  return jsonResponse(openApiDocument(), requestId, { headers: { "cache-control": "public, max-age=300" } });
}
