/**
 * The routes the Commy server (`server.ts`) answers itself, without Next.js's app-route
 * pipeline: every REST route of `REST_ROUTES` (so a route added there is served here with no
 * further step) and the worker endpoints under `/api/worker`. They run the very handlers the
 * Next.js route files export — same authentication, validation, errors, audit — and the
 * integration tests call; only the HTTP plumbing differs (`node-adapter.ts`).
 *
 * Anything that does not match exactly (another path or method, HEAD/OPTIONS, a trailing slash,
 * a malformed escape) is left to Next.js, which answers it as before (404, 405, 308 …).
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { restHandler, type AnyRouteDef, type RouteContext } from "~/server/rest/handler";

/** A route handler as the Next.js route files export it. */
export type WebHandler = (req: Request, context?: RouteContext) => Promise<Response> | Response;

export interface DirectRoute {
  method: string;
  /** The path pattern, `{param}` placeholders (for logs and tests). */
  path: string;
  handler: WebHandler;
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
  return { method, path: fullPath, handler, regex: new RegExp(`^${source}$`), params };
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

/** Every route of REST_ROUTES, bound as `restHandler` binds them in the route files. */
export function addRestRoutes(table: DirectRoutes, routes: readonly AnyRouteDef[]): void {
  for (const route of routes) table.add(route.method, `${REST_BASE}${route.path}`, restHandler(route));
}

/**
 * The worker endpoints: every `route.ts` under `src/app/api/worker` with static segments,
 * imported as they are (their handlers are web-standard and take no route params). New worker
 * endpoints are picked up without touching this file.
 */
export async function addWorkerRoutes(table: DirectRoutes, appDir: string): Promise<void> {
  const root = path.join(appDir, "api", "worker");
  const files: string[] = [];
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
      else if (entry === "route.ts") files.push(full);
    }
  };
  walk(root);
  for (const file of files) {
    const rel = path.relative(root, path.dirname(file)).split(path.sep).filter(Boolean);
    // Dynamic or grouped segments would need Next.js's matching rules: leave those to Next.js.
    if (rel.some((s) => s.includes("[") || s.includes("(") || s.startsWith("_") || s.startsWith("@"))) continue;
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const method of METHODS) {
      const handler = mod[method];
      if (typeof handler === "function") table.add(method, [WORKER_BASE, ...rel].join("/"), handler as WebHandler);
    }
  }
}
