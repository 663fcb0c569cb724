/**
 * How a route handler answers without web `Request`/`Response` objects, for the app server's
 * direct path (`server.ts`, `src/server/http`).
 *
 * The REST and worker handlers are written once, against `RequestLike` (what they read of a
 * request) and `PlainResponse` (status, headers, a complete body). The function a Next.js route
 * file exports wraps that core for web objects; the same core is attached to it under `DIRECT`,
 * and the app server calls it with a view over node's `IncomingMessage` and writes the plain
 * answer straight to the socket. Both doors therefore run the same code and produce the same
 * status, headers and body; building a `Request` (its `Headers`, URL, body stream) and reading a
 * `Response` body back through a stream reader cost more CPU than the authenticated read itself
 * (B6, docs/BENCHMARKS.md).
 *
 * No `next/*` and no node-only imports: this module is part of the Next.js build and of the app
 * server alike (`Symbol.for`, so the build's copy and the server's copy agree).
 */

/** Header lookup with web `Headers.get` semantics (case-insensitive; repeated headers joined with ", "). */
export interface HeaderReader {
  get(name: string): string | null;
}

/** What a handler reads of a request. A web `Request` is wrapped by `webRequestLike`. */
export interface RequestLike {
  readonly method: string;
  /** The absolute URL (`http://host/path?query`), as Next.js gives it to route handlers. */
  readonly url: string;
  readonly headers: HeaderReader;
  /** The whole body as text (UTF-8, a leading BOM dropped: `Request#text`). */
  text(): Promise<string>;
  /** The web `Request` (body stream, abort signal); on the direct path built on first call only. */
  web(): Request;
}

/** A complete answer. Header names in lower case; `body` null for none (204, 304). */
export interface PlainResponse {
  status: number;
  headers: Record<string, string>;
  body: string | null;
}

/** A handler's answer: plain, or a web `Response` when it streams (exports, event feeds). */
export type HandlerResult = PlainResponse | Response;

export interface DirectContext {
  params?: Record<string, string>;
}

export type DirectHandler = (req: RequestLike, context: DirectContext) => Promise<HandlerResult>;

/** Where the direct core of a route handler is attached to the exported web handler. */
export const DIRECT: unique symbol = Symbol.for("commy.directHandler") as never;

export type WithDirect<F> = F & { [DIRECT]: DirectHandler };

/** Attaches `direct` to the exported web handler `web` (which must run the same core). */
export function withDirect<F extends (...args: never[]) => unknown>(web: F, direct: DirectHandler): WithDirect<F> {
  return Object.assign(web, { [DIRECT]: direct });
}

/** The direct core attached to an exported handler, if any. */
export function directHandlerOf(handler: unknown): DirectHandler | null {
  const direct = typeof handler === "function" ? (handler as unknown as Record<symbol, unknown>)[DIRECT] : undefined;
  return typeof direct === "function" ? (direct as DirectHandler) : null;
}

/** A web `Request` as a `RequestLike`. */
export function webRequestLike(req: Request): RequestLike {
  return { method: req.method, url: req.url, headers: req.headers, text: () => req.text(), web: () => req };
}

/** The web `Response` of a plain answer. */
export function toWebResponse(result: HandlerResult): Response {
  return result instanceof Response ? result : new Response(result.body, { status: result.status, headers: result.headers });
}

/** A JSON answer. */
export function plainJson(status: number, body: unknown, headers: Record<string, string>): PlainResponse {
  return { status, headers, body: JSON.stringify(body) };
}
