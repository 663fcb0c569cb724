/**
 * The REST handler wrapper. A route is declared once (`defineRoute`): method, path, permission,
 * zod schemas for params/query/body/response, and a handler that calls a service. The same
 * declaration produces the Next.js route handler (`restHandler`), the OpenAPI document
 * (`openapi.ts`) and the authorization matrix test's list of routes.
 *
 * Order of work for every request (cheap and safe first):
 *  1. request id, client IP, user agent;
 *  2. Content-Length over the limit → 413 without reading anything;
 *  3. authenticate: `Authorization: Bearer <api key>`, else the session cookie (then the tenant
 *     comes from `X-Commy-Tenant`), else 401;
 *  4. resolve and verify the tenant (not a member / another tenant's key → 404);
 *  5. the route's permission (→ 403 naming it);
 *  6. params, query, body (counted while read → 413) validated with the route's zod schemas;
 *  7. the service; its result is the JSON body.
 * Any error on the way goes through `errorResponse`, the one error mapping.
 */
import type { z } from "zod";
import type { RequestMeta, TenantContext } from "~/server/actor";
import { authorize } from "~/server/actor";
import { requestMetaFromHeaders } from "~/server/api/request-meta";
import type { Permission } from "~/server/auth/permissions";
import { resolveSessionActor, sessionTokenFromCookieHeader } from "~/server/auth/session";
import { zodFieldErrors } from "~/server/contracts/common";
import { AppError } from "~/server/errors";
import { authenticateApiKey } from "~/server/services/api-keys";
import { resolveTenantContext } from "~/server/services/tenant-context";
import { MAX_BODY_BYTES, readJsonBody } from "./body";
import { toWebResponse, webRequestLike, withDirect, type DirectContext, type HandlerResult, type HeaderReader, type RequestLike, type WithDirect } from "./direct";
import { plainEmptyResponse, plainErrorResponse, plainJsonResponse } from "./http";

/** Header a signed-in user (cookie) sends to say which of their tenants the call is for. */
export const TENANT_HEADER = "x-commy-tenant";

export type HttpMethod = "get" | "post" | "patch" | "delete";
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteArgs<P, Q, B> {
  ctx: TenantContext;
  params: Out<P>;
  query: Out<Q>;
  body: B extends z.ZodType ? z.output<B> | unknown : undefined;
  /** The web request (on the app server's direct path it is built only when a handler reads it). */
  req: Request;
  meta: RequestMeta;
}

export interface RouteDef<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined> {
  method: HttpMethod;
  /** OpenAPI path under /api/v1, with `{param}` placeholders. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** What the caller needs; checked before the body is read (and again by the service). */
  permission: Permission;
  params?: P;
  query?: Q;
  body?: B;
  /**
   * Hand the body to the service unparsed (the service validates it, with messages the
   * schema alone cannot give, e.g. "name cannot change"). The schema still documents it.
   */
  rawBody?: boolean;
  /** Success status and its JSON schema (none for 204). */
  success: { status: 200 | 201 | 204; schema?: z.ZodType; description: string; contentTypes?: string[] };
  /** Returns the JSON body, or a ready `Response` (streams, 201 with Location, 204). */
  handler: (args: RouteArgs<P, Q, B>) => Promise<unknown>;
}

/** Declares a route (identity function: it exists for type inference). */
export function defineRoute<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  def: RouteDef<P, Q, B>,
): RouteDef<P, Q, B> {
  return def;
}

/** Any route, for lists (OpenAPI, tests). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRouteDef = RouteDef<any, any, any>;

function parseWith<S extends z.ZodType>(schema: S, value: unknown, prefix?: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const fields = zodFieldErrors(parsed.error);
  if (!prefix) throw AppError.validation(fields);
  // Path and query errors are named as such so the caller knows where to look.
  throw AppError.validation(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k === "_" ? prefix : k, v])));
}

/**
 * The caller's verified tenant context. An API key acts in its own tenant (`X-Commy-Tenant`,
 * if sent, must name that tenant: otherwise 404 like any other tenant); a signed-in user must
 * say which tenant with `X-Commy-Tenant` and be a member of it.
 */
export async function authenticateRest(req: { headers: HeaderReader }, meta: RequestMeta): Promise<TenantContext> {
  const requestedTenant = req.headers.get(TENANT_HEADER)?.trim() || null;
  const authorization = req.headers.get("authorization");
  if (authorization !== null) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw new AppError("UNAUTHENTICATED", "The Authorization header must be `Bearer <api key>`");
    const { actor, tenantId } = await authenticateApiKey(m[1]!, meta);
    return requestedTenant && requestedTenant !== tenantId ? resolveTenantContext(actor, requestedTenant, meta) : { actor, tenantId, role: null, meta };
  }
  const user = await resolveSessionActor(sessionTokenFromCookieHeader(req.headers.get("cookie")));
  if (!user) throw new AppError("UNAUTHENTICATED", "Authenticate with `Authorization: Bearer <api key>` (or sign in)");
  if (!requestedTenant) throw new AppError("BAD_REQUEST", "Signed-in callers must name the tenant in the X-Commy-Tenant header");
  return resolveTenantContext(user, requestedTenant, meta);
}

/** Route segment params as Next.js passes them (a promise since Next 15). */
export interface RouteContext {
  params?: Promise<Record<string, string | string[] | undefined>> | Record<string, string | string[] | undefined>;
}

/**
 * Turns a route declaration into a Next.js App Router handler `(req, { params }) => Response`.
 * The same work, without web objects, is attached as its `DIRECT` handler for the app server
 * (`direct.ts`): one implementation, two doors.
 */
export function restHandler<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined>(
  route: RouteDef<P, Q, B>,
): WithDirect<(req: Request, context?: RouteContext) => Promise<Response>> {
  const core = restCore(route);
  return withDirect(async (req: Request, context?: RouteContext) => toWebResponse(await core(webRequestLike(req), context)), core);
}

function restCore<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined>(
  route: RouteDef<P, Q, B>,
): (req: RequestLike, context?: RouteContext | DirectContext) => Promise<HandlerResult> {
  const hasBody = route.method === "post" || route.method === "patch";
  return async (req, context) => {
    const meta = requestMetaFromHeaders(req.headers);
    try {
      const declared = req.headers.get("content-length");
      if (declared !== null && Number(declared) > MAX_BODY_BYTES) {
        throw new AppError("PAYLOAD_TOO_LARGE", `The request body is larger than ${MAX_BODY_BYTES} bytes`);
      }
      const ctx = await authenticateRest(req, meta);
      authorize(ctx, route.permission);

      const rawParams = (await context?.params) ?? {};
      const params = (route.params ? parseWith(route.params, rawParams, "path") : undefined) as Out<P>;
      let query = undefined as Out<Q>;
      if (route.query) query = parseWith(route.query, queryObject(req.url), "query") as Out<Q>;
      let body: unknown = undefined;
      if (hasBody && route.body) {
        const raw = await readJsonBody(req.web());
        body = route.rawBody ? raw : parseWith(route.body, raw);
      }

      const result = await route.handler({
        ctx,
        params,
        query,
        body: body as RouteArgs<P, Q, B>["body"],
        get req() {
          return req.web();
        },
        meta,
      });
      if (result instanceof Response) {
        result.headers.set("x-request-id", meta.requestId);
        return result;
      }
      if (route.success.status === 204) return plainEmptyResponse(meta.requestId);
      return plainJsonResponse(result, meta.requestId, route.success.status);
    } catch (err) {
      return plainErrorResponse(err, meta.requestId);
    }
  };
}

/** The query string as `Object.fromEntries(new URL(url).searchParams)` gives it (last value of a repeated name wins). */
function queryObject(url: string): Record<string, string> {
  const q = url.indexOf("?");
  if (q < 0) return {};
  const hash = url.indexOf("#", q);
  return Object.fromEntries(new URLSearchParams(hash < 0 ? url.slice(q + 1) : url.slice(q + 1, hash)));
}
