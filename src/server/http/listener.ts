/**
 * The app server's request listener: a request whose method and path match a direct route
 * (`direct-routes.ts`) is answered by that route's handler — its direct core over the incoming
 * message (`node-request.ts`, rest/direct.ts) when the route file provides one, else its web
 * handler through `node-adapter.ts`; any other request goes to `fallback` (Next.js's request
 * handler in `server.ts`).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { logger } from "~/server/logger";
import type { DirectMatch, DirectRoutes } from "./direct-routes";
import { toWebRequest, writePlainResponse, writeWebResponse } from "./node-adapter";
import { NodeRequest } from "./node-request";

export function createAppListener(table: DirectRoutes, fallback: (req: IncomingMessage, res: ServerResponse) => unknown): RequestListener {
  return (req, res) => {
    const url = req.url ?? "/";
    if (url.startsWith("/api/")) {
      const q = url.indexOf("?");
      const match = table.match(req.method ?? "GET", q < 0 ? url : url.slice(0, q));
      if (match) return void serveDirect(match, req, res);
    }
    void fallback(req, res);
  };
}

async function serveDirect(match: DirectMatch, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const direct = match.route.direct;
  if (!direct) return serveWeb(match, req, res);
  const request = new NodeRequest(req, res);
  try {
    const result = await direct(request, { params: match.params });
    if (result instanceof Response) await writeWebResponse(res, result);
    else await writePlainResponse(res, result);
  } catch (err) {
    failed(err, match, req, res);
  } finally {
    request.dispose();
  }
}

async function serveWeb(match: DirectMatch, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Aborted when the client goes away before the response is complete (what Next.js does with
  // `request.signal`): long-running handlers (streams) stop their work.
  const abort = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.once("close", onClose);
  try {
    const response = await match.route.handler(toWebRequest(req, abort.signal), { params: match.params });
    await writeWebResponse(res, response);
  } catch (err) {
    failed(err, match, req, res);
  } finally {
    res.off("close", onClose);
  }
}

/** The handlers map every error themselves; this is for bugs in the plumbing. */
function failed(err: unknown, match: DirectMatch, req: IncomingMessage, res: ServerResponse): void {
  logger.error({ err, method: req.method, path: match.route.path }, "direct route failed");
  if (!res.headersSent) {
    res.writeHead(500, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify({ error: { code: "INTERNAL", message: "Internal error" } }));
  } else res.destroy();
}
