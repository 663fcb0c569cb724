/**
 * The routes the Commy server (`server.ts`) answers itself, without Next.js's app-route
 * pipeline: every REST route of `REST_ROUTES` (so a route added there is served here with no
 * further step) and the worker endpoints under `/api/worker`. They run the very handlers the
 * Next.js route files export — taken from Next.js's build, so the same module instances Next.js
 * itself runs — with the same authentication, validation, errors, audit; only the HTTP
 * plumbing differs (`node-adapter.ts`).
 *
 * Anything that does not match exactly (another path or method, HEAD/OPTIONS, a trailing slash,
 * a malformed escape) is left to Next.js, which answers it as before (404, 405, 308 …).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { directHandlerOf, type DirectHandler } from "~/server/rest/direct";
import type { AnyRouteDef, RouteContext } from "~/server/rest/handler";

/** A route handler as the Next.js route files export it. */
export type WebHandler = (req: Request, context?: RouteContext) => Promise<Response> | Response;

export interface DirectRoute {
  method: string;
  /** The path pattern, `{param}` placeholders (for logs and tests). */
  path: string;
  handler: WebHandler;
  /** The same handler without web objects (rest/direct.ts), when the route file provides it. */
  direct: DirectHandler | null;
}

interface CompiledRoute extends DirectRoute {
  regex: RegExp;
  params: string[];
}

export interface DirectMatch {
  route: DirectRoute;
  params: Record<string, string>;
}

export const REST_BASE = "/api/v1";
export const WORKER_BASE = "/api/worker";
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

function compile(method: string, fullPath: string, handler: WebHandler): CompiledRoute {
  const params: string[] = [];
  const source = fullPath
    .split("/")
    .map((segment) => {
      const m = /^\{(\w+)\}$/.exec(segment);
      if (!m) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      params.push(m[1]!);
      return "([^/]+)";
    })
    .join("/");
  return { method, path: fullPath, handler, direct: directHandlerOf(handler), regex: new RegExp(`^${source}$`), params };
}

/** The routing table: exact method + path → handler. Static paths are looked up in a map. */
export class DirectRoutes {
  private readonly byStatic = new Map<string, CompiledRoute>();
  private readonly dynamic: CompiledRoute[] = [];
  readonly routes: DirectRoute[] = [];

  add(method: string, fullPath: string, handler: WebHandler): void {
    const route = compile(method.toUpperCase(), fullPath, handler);
    const key = `${route.method} ${fullPath}`;
    if (this.byStatic.has(key) || this.dynamic.some((r) => r.method === route.method && r.path === fullPath)) {
      throw new Error(`duplicate route ${key}`);
    }
    if (route.params.length === 0) this.byStatic.set(key, route);
    else this.dynamic.push(route);
    this.routes.push(route);
  }

  /** The route for this method and pathname (no query string), or null (→ Next.js). */
  match(method: string, pathname: string): DirectMatch | null {
    const exact = this.byStatic.get(`${method} ${pathname}`);
    if (exact) return { route: exact, params: {} };
    for (const route of this.dynamic) {
      if (route.method !== method) continue;
      const m = route.regex.exec(pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      try {
        // Next.js decodes segment params once; a malformed escape is left to Next.js.
        route.params.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1]!)));
      } catch {
        return null;
      }
      return { route, params };
    }
    return null;
  }
}

/**
 * Where a route's handlers come from: the module exporting GET/POST/… for the route directory
 * `appDir` (e.g. `api/v1/files/[name]`), or null when there is none (→ Next.js serves it).
 */
export type RouteModuleLoader = (appDir: string) => Promise<Record<string, unknown> | null>;

/**
 * The handlers of Next.js's own build (`<distDir>/server/app/<dir>/route.js`), i.e. the very
 * module instances Next.js runs for these routes. Serving those (rather than a second copy of
 * the sources) keeps one instance of every module in the process: one Prisma runtime (its
 * sentinels such as `Prisma.DbNull` are checked by identity), one API-key cache, one pool.
 */
export function compiledRouteLoader(distDir: string): RouteModuleLoader {
  const require = createRequire(import.meta.url);
  return async (appDir) => {
    const file = path.join(distDir, "server", "app", ...appDir.split("/"), "route.js");
    if (!existsSync(file)) return null;
    const mod = require(file) as { routeModule?: { ensureUserland?: () => Promise<void>; userland?: Record<string, unknown> } };
    const routeModule = mod.routeModule;
    if (!routeModule) return null;
    await routeModule.ensureUserland?.();
    return routeModule.userland ?? null;
  };
}

/** The source route files (`src/app/<dir>/route.ts`), for tests that run without a build. */
export function sourceRouteLoader(appRoot: string): RouteModuleLoader {
  return async (appDir) => {
    const file = path.join(appRoot, ...appDir.split("/"), "route.ts");
    if (!existsSync(file)) return null;
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  };
}

/** `/files/{name}` → `api/v1/files/[name]` (the route file's directory under src/app). */
const restAppDir = (routePath: string): string => `api/v1${routePath.replace(/\{(\w+)\}/g, "[$1]")}`;

/**
 * Every route of REST_ROUTES, with the handler its route file exports for that method (so a
 * route added to REST_ROUTES is served here with no further step). A declared route whose file
 * or method is missing is left to Next.js (which answers 404/405 for it, as before).
 */
export async function addRestRoutes(table: DirectRoutes, routes: readonly AnyRouteDef[], load: RouteModuleLoader): Promise<void> {
  const modules = new Map<string, Record<string, unknown> | null>();
  for (const route of routes) {
    const dir = restAppDir(route.path);
    if (!modules.has(dir)) modules.set(dir, await load(dir));
    const handler = modules.get(dir)?.[route.method.toUpperCase()];
    if (typeof handler === "function") table.add(route.method, `${REST_BASE}${route.path}`, handler as WebHandler);
  }
}

/**
 * The worker endpoints: every `route.ts` under `src/app/api/worker` with static segments (their
 * handlers take no route params). New worker endpoints are picked up without touching this file.
 */
export async function addWorkerRoutes(table: DirectRoutes, appRoot: string, load: RouteModuleLoader): Promise<void> {
  const root = path.join(appRoot, "api", "worker");
  const dirs: string[] = [];
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const entry of entries.sort()) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry === "route.ts") dirs.push(dir);
    }
  };
  walk(root);
  for (const dir of dirs) {
    const rel = path.relative(root, dir).split(path.sep).filter(Boolean);
    // Dynamic or grouped segments would need Next.js's matching rules: leave those to Next.js.
    if (rel.some((s) => s.includes("[") || s.includes("(") || s.startsWith("_") || s.startsWith("@"))) continue;
    const mod = await load(["api", "worker", ...rel].join("/"));
    if (!mod) continue;
    for (const method of METHODS) {
      const handler = mod[method];
      if (typeof handler === "function") table.add(method, [WORKER_BASE, ...rel].join("/"), handler as WebHandler);
    }
  }
}
