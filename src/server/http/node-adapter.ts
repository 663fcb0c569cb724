/**
 * node:http ⇄ web `Request`/`Response`, for the routes the Commy server answers itself
 * (`server.ts`, `direct-routes.ts`). The handlers stay web-standard (the same functions the
 * Next.js route files export and the integration tests call); this is the thin layer that lets
 * them run on a plain `node:http` server without Next.js's per-request pipeline.
 *
 * Responses are written as Next.js writes them for a route handler: status, the handler's
 * headers, then the body as it arrives (a streamed body — audit export, server-sent events — is
 * written chunk by chunk, never buffered; a client that goes away cancels the stream). A plain
 * answer (rest/direct.ts: JSON, complete at once) goes out in one write with a Content-Length.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable, type Writable } from "node:stream";
import zlib from "node:zlib";
import { toWebResponse, type PlainResponse } from "~/server/rest/direct";

const BODYLESS = new Set(["GET", "HEAD"]);

/** The request's absolute URL, as Next.js gives it to route handlers (`http://host/path?query`). */
export function requestUrl(req: IncomingMessage): string {
  const host = req.headers.host ?? "localhost";
  const proto = (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
  return `${proto}://${host}${req.url ?? "/"}`;
}

const FORWARDED = ["x-forwarded-host", "x-forwarded-port", "x-forwarded-proto", "x-forwarded-for"] as const;

/** The `x-forwarded-*` value Next.js fills in when the client (or a proxy) sent none; null: none. */
export function forwardedDefault(req: IncomingMessage, key: string): string | null {
  const encrypted = Boolean((req.socket as { encrypted?: boolean }).encrypted);
  switch (key) {
    case "x-forwarded-host":
      return req.headers.host ?? null;
    case "x-forwarded-port": {
      const https = req.headers["x-forwarded-proto"] ? req.headers["x-forwarded-proto"] === "https" : encrypted;
      return String(req.socket.localPort ?? (https ? 443 : 80));
    }
    case "x-forwarded-proto":
      return encrypted ? "https" : "http";
    case "x-forwarded-for":
      return req.socket.remoteAddress ?? null;
    default:
      return null;
  }
}

/**
 * A web `Request` over the incoming message; the body (if any) is streamed, not read ahead.
 *
 * Like Next.js's server, it fills in the `x-forwarded-*` headers a proxy did not set — above all
 * `x-forwarded-for` from the socket's peer address — so handlers see the same client IP on both
 * paths (the audit log records it, and failed API-key attempts are rate-limited per IP).
 */
export function toWebRequest(req: IncomingMessage, signal?: AbortSignal): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // HTTP/2 pseudo-headers never reach node:http/1.1; connection-level headers are not the handler's business.
    if (name.charCodeAt(0) === 58) continue;
    headers.append(name, raw[i + 1]!);
  }
  for (const key of FORWARDED) {
    if (headers.has(key)) continue;
    const value = forwardedDefault(req, key);
    if (value !== null) headers.set(key, value);
  }
  const method = req.method ?? "GET";
  const init: RequestInit & { duplex?: "half" } = { method, headers, signal };
  if (!BODYLESS.has(method)) {
    init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
    init.duplex = "half";
  }
  return new Request(requestUrl(req), init);
}

/** What Next.js adds to every app-route response (its client router's cache keys). */
const NEXT_VARY = "rsc, next-router-state-tree, next-router-prefetch, next-router-segment-prefetch";
/** Types Next.js's compression compresses (the `compressible` database, for the types we send). */
const COMPRESSIBLE = /^\s*(text\/[^;]+|application\/(json|javascript|xml|[\w.-]+\+(json|xml)))\s*(;|$)/i;

/** Quality of each encoding in an Accept-Encoding header (`*` applies to unnamed ones). */
function encodingQualities(header: string): Map<string, number> {
  const q = new Map<string, number>();
  for (const part of header.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (!name) continue;
    let quality = 1;
    for (const p of params) {
      const m = /^\s*q=([0-9.]+)\s*$/.exec(p);
      if (m) quality = Number(m[1]);
    }
    q.set(name, quality);
  }
  return q;
}

/**
 * The content coding Next.js's `compression` middleware would choose: gzip or deflate for a
 * compressible type when the client accepts it (gzip preferred), else none.
 */
export function negotiateEncoding(acceptEncoding: string | undefined): "gzip" | "deflate" | null {
  if (!acceptEncoding) return null;
  const q = encodingQualities(acceptEncoding);
  const star = q.get("*");
  const of = (name: string) => q.get(name) ?? star ?? 0;
  const candidates: ["gzip" | "deflate" | "identity", number][] = [
    ["gzip", of("gzip")],
    ["deflate", of("deflate")],
    ["identity", q.get("identity") ?? star ?? Math.min(1, ...[...q.values()].filter((v) => v > 0))],
  ];
  let best: (typeof candidates)[number] | null = null;
  for (const c of candidates) if (c[1] > 0 && (!best || c[1] > best[1])) best = c;
  if (!best || best[0] === "identity") return null;
  if (best[0] === "deflate" && of("gzip") > 0) return "gzip";
  return best[0];
}

const NO_TRANSFORM = /(?:^|,)\s*no-transform\s*(?:,|$)/i;

/**
 * Writes a plain answer (rest/direct.ts) with the status, headers and `Vary` that
 * `writeWebResponse(res, toWebResponse(answer))` writes, headers in the order a web `Headers`
 * lists them, and the body in one `end` with its Content-Length instead of chunked. A body the
 * client accepts compressed goes through `writeWebResponse` (compressed as before).
 */
export function writePlainResponse(res: ServerResponse, answer: PlainResponse): Promise<void> | void {
  const headers = answer.headers;
  const type = headers["content-type"];
  const compressible = type !== undefined && COMPRESSIBLE.test(type) && !NO_TRANSFORM.test(headers["cache-control"] ?? "");
  const bodyless = answer.body === null || res.req.method === "HEAD" || answer.status === 204 || answer.status === 304;
  if (compressible && !bodyless && headers["content-encoding"] === undefined && negotiateEncoding(res.req.headers["accept-encoding"]) !== null) {
    return writeWebResponse(res, toWebResponse(answer));
  }
  const ownVary = headers.vary;
  const vary = ownVary ? `${NEXT_VARY}, ${ownVary}` : NEXT_VARY;
  const out: string[] = compressible ? ["Vary", `${vary}, Accept-Encoding`] : ["vary", vary];
  for (const name of Object.keys(headers).sort()) if (name !== "vary") out.push(name, headers[name]!);
  if (bodyless || answer.body === null) {
    res.writeHead(answer.status, out);
    res.end();
    return;
  }
  // A string body goes out in the same write as the headers (node joins them).
  out.push("content-length", String(Buffer.byteLength(answer.body, "utf8")));
  res.writeHead(answer.status, out);
  res.end(answer.body, "utf8");
}

/**
 * Writes a web `Response` to the node response as Next.js writes an app-route response: its
 * status and headers plus Next's \`Vary\`, compressed (gzip/deflate, flushed chunk by chunk) when
 * the type is compressible and the client accepts it, the body written as it arrives (a stream
 * is never buffered; a client that goes away cancels it; backpressure is respected). Resolves
 * when the body has been written or the client went away.
 */
export async function writeWebResponse(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  if (response.statusText) res.statusMessage = response.statusText;
  const ownVary = response.headers.get("vary");
  const vary = ownVary ? `${NEXT_VARY}, ${ownVary}` : NEXT_VARY;
  const type = response.headers.get("content-type");
  const transformable = !NO_TRANSFORM.test(response.headers.get("cache-control") ?? "");
  const compressible = type !== null && COMPRESSIBLE.test(type) && transformable;
  if (compressible) res.setHeader("Vary", `${vary}, Accept-Encoding`);
  else res.setHeader("vary", vary);
  let cookies: string[] | undefined;
  for (const [name, value] of response.headers) {
    if (name === "set-cookie") cookies ??= response.headers.getSetCookie();
    else if (name !== "vary") res.setHeader(name, value);
  }
  if (cookies) res.setHeader("set-cookie", cookies);

  const body = response.body;
  const head = res.req.method === "HEAD";
  if (!body || head || response.status === 204 || response.status === 304) {
    if (body) await body.cancel().catch(() => undefined);
    res.end();
    return;
  }
  const encoding = compressible && !res.hasHeader("content-encoding") ? negotiateEncoding(res.req.headers["accept-encoding"]) : null;
  let out: Writable = res;
  let zip: ReturnType<typeof zlib.createGzip> | null = null;
  if (encoding) {
    zip = encoding === "gzip" ? zlib.createGzip() : zlib.createDeflate();
    res.setHeader("Content-Encoding", encoding);
    res.removeHeader("content-length");
    zip.pipe(res);
    out = zip;
  }

  const reader = body.getReader();
  let closed = false;
  const onClose = () => {
    if (res.writableFinished) return;
    closed = true;
    // The client went away: stop the producer (an SSE loop, a database cursor).
    void reader.cancel().catch(() => undefined);
    zip?.destroy();
  };
  res.once("close", onClose);
  try {
    let next = reader.read();
    let first = true;
    for (;;) {
      const { value, done } = await next;
      if (done || closed) break;
      next = reader.read();
      if (value.byteLength === 0) continue;
      if (first && !zip) {
        first = false;
        // A body that is complete at once (every JSON answer) goes out with its headers and the
        // chunked-encoding terminator in one write instead of two. A live stream is not held
        // back: only what is already there (resolved before the next turn of the loop) counts.
        const after = await Promise.race([next, new Promise<null>((r) => setImmediate(r, null))]);
        if (after?.done && !closed) {
          res.socket?.cork();
          res.write(value);
          break;
        }
      }
      const more = out.write(value);
      // Like Next.js: every chunk is flushed through the compressor, so streams stay live.
      zip?.flush();
      if (!more) await drained(out, res);
    }
  } catch (err) {
    // A stream that fails half-way cannot change the status any more: cut the connection so the
    // client sees a truncated body rather than a complete-looking one.
    res.off("close", onClose);
    zip?.destroy();
    res.destroy(err instanceof Error ? err : new Error(String(err)));
    return;
  }
  if (closed) return;
  if (zip) {
    await new Promise<void>((resolve) => {
      res.once("finish", resolve);
      res.once("close", resolve);
      zip.end();
    });
  } else res.end();
  res.off("close", onClose);
}

function drained(out: Writable, res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const go = () => {
      out.off("drain", go);
      res.off("close", go);
      resolve();
    };
    out.on("drain", go);
    res.on("close", go);
  });
}
